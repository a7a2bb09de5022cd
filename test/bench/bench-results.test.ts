// What docs/benchmarks.md publishes must be what a run measured: the committed tables are checked
// against what the bench's renderer makes of the committed JSON, goal verdicts included, so a
// hand-edited number or a stale table fails here. And the bench's Gantry target must still start
// Gantry as the image ships it and relay through it.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { evaluateGoals, renderMarkdown } from '../../bench/report.mjs';
import {
  createDataTemplate,
  MASTER_KEY,
  startGantry,
  startUpstream,
  VIRTUAL_KEY_LIMITS,
} from '../../bench/targets.mjs';

const resultsFile = (name: string) => new URL(`../../bench/results/${name}`, import.meta.url);

describe('the published bench results', () => {
  for (const mode of ['short', 'full']) {
    it(`bench/results/${mode}.md is what the renderer makes of ${mode}.json`, () => {
      const results = JSON.parse(readFileSync(resultsFile(`${mode}.json`), 'utf8'));
      const recorded = results.goals;
      results.goals = evaluateGoals(results);
      expect(results.goals).toEqual(recorded);
      expect(results.goals.length).toBeGreaterThanOrEqual(mode === 'full' ? 8 : 7);
      // A goal a run did not measure (the short run has no soak) says so with null, never a pass.
      for (const goal of results.goals) expect([true, false, null]).toContain(goal.pass);
      expect(renderMarkdown(results)).toBe(readFileSync(resultsFile(`${mode}.md`), 'utf8'));
    });
  }

  it("shows each target's unmeasured closed-loop warm-up rounds beside its throughput", () => {
    const results = JSON.parse(readFileSync(resultsFile('full.json'), 'utf8'));
    results.throughput = results.throughput.map((row: object, index: number) => ({
      ...row,
      warmupCpuMicrosPerRound: [300 + index, 200 + index, 100 + index],
    }));
    const section = renderMarkdown(results).split('#### Peak throughput')[1]!.split('####')[0]!;
    expect(section).toContain('Each target first runs unmeasured closed-loop rounds');
    expect(section).toContain('| warm-up rounds, CPU µs/request (unmeasured) |');
    const rows = section.split('\n').filter((line) => / → /.test(line));
    expect(rows).toHaveLength(results.throughput.length);
    expect(rows[1]).toMatch(/\| 301 → 201 → 101 \|$/);
  });

  it('docs/benchmarks.md carries one of those tables between its markers', () => {
    const docs = readFileSync(new URL('../../docs/benchmarks.md', import.meta.url), 'utf8');
    const start = docs.indexOf('<!-- bench:results:start -->');
    const end = docs.indexOf('<!-- bench:results:end -->');
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const published = docs.slice(start, end);
    const tables = ['short', 'full'].map((mode) => readFileSync(resultsFile(`${mode}.md`), 'utf8'));
    expect(tables.some((table) => published.includes(table))).toBe(true);
  });
});

describe('the streaming TTFT goal (bench/report.mjs)', () => {
  const names = { upstream: 'up', bare: 'floor', gantry: 'gw' };
  const stream = (target: string, concurrency: number, ttftP50: number) => ({
    target,
    concurrency,
    ttftMs: { p50: ttftP50 },
    errors: 0,
  });
  const pairedRound = (up: number, floor: number, gw: number, gwErrors = 0) => ({
    up: { ttftP50: up, errors: 0 },
    floor: { ttftP50: floor, errors: 0 },
    gw: { ttftP50: gw, errors: gwErrors },
  });
  const ttftGoal = (results: object): { measured: string; pass: boolean } => {
    const goal = evaluateGoals({ names, ...results }).find((each: { goal: string }) =>
      each.goal.startsWith('streaming TTFT'),
    );
    if (!goal) throw new Error('no streaming TTFT goal evaluated');
    return goal;
  };

  it('at 100 streams is judged on the median of the paired rounds, and the worse of 100 and 1,000 decides', () => {
    const streams = [
      stream('up', 100, 1),
      stream('gw', 100, 9),
      stream('up', 1000, 2),
      stream('gw', 1000, 2.5),
    ];
    const streamRounds = {
      concurrency: 100,
      targets: ['up', 'floor', 'gw'],
      // Gantry adds 0.2, 6 and 0.4 ms: one noisy round does not decide it.
      rounds: [pairedRound(1, 1.1, 1.2), pairedRound(1, 1.2, 7), pairedRound(1, 1.1, 1.4)],
    };
    const goal = ttftGoal({ streams, streamRounds });
    expect(goal.pass).toBe(true);
    expect(goal.measured).toContain(
      '+0.4 ms at 100 streams (median of 3 paired rounds: +0.2, +6, +0.4; single round +8)',
    );
    expect(goal.measured).toContain('+0.5 ms at 1,000 streams');

    const slowAt1000 = [...streams.slice(0, 3), stream('gw', 1000, 40)];
    expect(ttftGoal({ streams: slowAt1000, streamRounds }).pass).toBe(false);
    const failedStream = {
      ...streamRounds,
      rounds: [...streamRounds.rounds.slice(0, 2), pairedRound(1, 1.1, 1.4, 1)],
    };
    expect(ttftGoal({ streams, streamRounds: failedStream }).pass).toBe(false);
  });

  it('without paired rounds (runs before them) is judged on the single rounds, as those runs were', () => {
    const goal = ttftGoal({ streams: [stream('up', 100, 1), stream('gw', 100, 1.5)] });
    expect(goal).toMatchObject({ measured: '0.5 ms', pass: true });
  });
});

describe("the bench's Gantry target (bench/targets.mjs)", () => {
  it('starts Gantry as the image ships it, on a migrated data directory, and relays a stream through it', async () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const upstream = await startUpstream({ cores: undefined });
    const template = await createDataTemplate();
    const gantry = await startGantry({
      name: 'gantry',
      upstream,
      cores: undefined,
      logCores: undefined,
      dataTemplate: template,
    });
    try {
      // The process runs with the Dockerfile's NODE_OPTIONS, as in the image.
      const options = /\bNODE_OPTIONS=(\S+)/.exec(dockerfile)?.[1];
      expect(options).toBeTruthy();
      const environ = readFileSync(`/proc/${gantry.pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain(`NODE_OPTIONS=${options}`);

      const client = new OpenAI({
        baseURL: `${gantry.origin}/v1`,
        apiKey: MASTER_KEY,
        maxRetries: 0,
      });
      await upstream.setStreamShape({ chunks: 12, delayMs: 1 });
      const stream = await client.chat.completions.create({
        model: 'bench',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('tok '.repeat(12));
      // Without the master key the bench's target is refused, as a default Gantry refuses anyone.
      const anonymous = await fetch(`${gantry.origin}/v1/models`);
      expect(anonymous.status).toBe(401);

      // The template's virtual key (the feature table's tenant) is served within its limits, and
      // what it spends is counted against its budget.
      expect(template.virtualKey).toMatch(/^gk-[0-9a-f]{12}-/);
      const tenant = new OpenAI({
        baseURL: `${gantry.origin}/v1`,
        apiKey: template.virtualKey,
        maxRetries: 0,
      });
      const answer = await tenant.chat.completions
        .create({ model: 'bench', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(answer.data.choices[0]?.message.content).toBeTruthy();
      expect(answer.response.headers.get('x-ratelimit-limit-requests')).toBe(String(VIRTUAL_KEY_LIMITS.rpm));
    } finally {
      await gantry.stop();
      template.remove();
      await upstream.stop();
    }
  });
});
