import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { chatCompletionRequestSchema } from './schemas/chat-completion-request.js';
import { embeddingRequestSchema } from './schemas/embedding-request.js';
import { simpleChatRequestSchema } from './schemas/simple-chat-request.js';
import { validate } from './validate.js';

function rejection(schema: Parameters<typeof validate>[0], body: unknown) {
  try {
    validate(schema, body);
  } catch (error) {
    if (isGatewayError(error)) return { message: error.message, param: error.param, status: error.status };
    throw error;
  }
  throw new Error('expected a validation error');
}

const user = (content: unknown) => ({ model: 'm', messages: [{ role: 'user', content }] });

describe('validate', () => {
  it('says "missing" only for absent fields, and names wrong values as such', () => {
    expect(rejection(chatCompletionRequestSchema, { messages: [] })).toMatchObject({
      param: 'model',
      message: "Missing required parameter: 'model'.",
      status: 400,
    });
    const wrongType = rejection(chatCompletionRequestSchema, { ...user('hi'), model: 1 });
    expect(wrongType.param).toBe('model');
    expect(wrongType.message).toMatch(/^Invalid value for 'model': .*expected string, received number/);
  });

  it('follows a union into the branch that got furthest', () => {
    expect(rejection(chatCompletionRequestSchema, user([{ type: 'text' }])).param).toBe(
      'messages[0].content[0].text',
    );
    expect(
      rejection(chatCompletionRequestSchema, user([{ type: 'text', text: 'a' }, { type: 'bogus' }])).param,
    ).toBe('messages[0].content[1].type');
    expect(
      rejection(chatCompletionRequestSchema, user([{ type: 'image_url', image_url: { url: 5 } }])).param,
    ).toBe('messages[0].content[0].image_url.url');
  });

  it('lists the accepted kinds when no union branch fits at all', () => {
    const error = rejection(chatCompletionRequestSchema, user(42));
    expect(error.param).toBe('messages[0].content');
    expect(error.message).toContain('expected string or array');
    expect(rejection(embeddingRequestSchema, { model: 'e', input: { text: 'x' } }).param).toBe('input');
  });

  it('names an unknown key of a strict schema as the param', () => {
    expect(rejection(simpleChatRequestSchema, { message: 'hi', temperature: 1 })).toMatchObject({
      param: 'temperature',
      message: 'Unrecognized request argument supplied: temperature',
    });
  });

  it('refuses bodies that are not JSON objects without a param', () => {
    for (const body of [null, [], 'text', 3]) {
      expect(rejection(chatCompletionRequestSchema, body).param).toBeNull();
    }
  });
});

describe('validate, union edge cases', () => {
  it('prefers the branch whose type fitted but whose size did not', () => {
    const input = Array.from({ length: 2049 }, () => 'x');
    expect(rejection(embeddingRequestSchema, { model: 'e', input }).param).toBe('input');
    expect(rejection(embeddingRequestSchema, { model: 'e', input: [] }).param).toBe('input');
    expect(
      rejection(chatCompletionRequestSchema, { ...user('hi'), stop: ['a', 'b', 'c', 'd', 'e'] }).param,
    ).toBe('stop');
  });

  it('goes into an object branch rather than stopping at an enum', () => {
    expect(
      rejection(chatCompletionRequestSchema, { ...user('hi'), tool_choice: { type: 'function' } }).param,
    ).toBe('tool_choice.function');
    expect(rejection(chatCompletionRequestSchema, { ...user('hi'), stop: [1] }).param).toBe('stop[0]');
  });
});
