// Re-renders bench/results/<mode>.md (and docs/benchmarks.md) from <mode>.json without re-running:
//   node bench/render.mjs [short|full]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateGoals, publishToDocs, renderMarkdown } from './report.mjs';

const mode = process.argv[2] ?? 'short';
const resultsDir = fileURLToPath(new URL('results', import.meta.url));
const results = JSON.parse(readFileSync(join(resultsDir, `${mode}.json`), 'utf8'));
results.goals = evaluateGoals(results);
const markdown = renderMarkdown(results);
writeFileSync(join(resultsDir, `${mode}.md`), markdown);
publishToDocs(fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url)), results, markdown);
console.log(markdown);
