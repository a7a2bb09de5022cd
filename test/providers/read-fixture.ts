import { readFileSync } from 'node:fs';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

/** The text of a recorded wire fixture, e.g. `openai/chat-text.sse`. */
export function readFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}
