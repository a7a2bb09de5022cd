// Turns one run's results into markdown: the goal checklist, then one table per scenario.
import { readFileSync, writeFileSync } from 'node:fs';
import { median, round } from './stats.mjs';

const ms = (value) => (Number.isFinite(value) ? round(value, value < 10 ? 2 : 1).toString() : '—');
/** A difference with its sign: +0.4, -1.2. */
const signed = (value) => (value < 0 ? `-${ms(-value)}` : `+${ms(value)}`);
const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');
/** A feature variant's median round (results from before it was recorded: from the rounded rounds). */
const medianRound = (row) => row.cpuMicrosMedianRound ?? median(row.cpuMicrosPerRound ?? []);
/** Thread CPU seconds (threadCpuSeconds in processes.mjs) as µs per request. */
const perRequest = (seconds, ok) =>
  Object.fromEntries(
    Object.entries(seconds).map(([kind, value]) => [kind, ok > 0 ? (value * 1e6) / ok : NaN]),
  );
const byThread = (micros) =>
  micros ? ['main', 'workers', 'v8', 'other'].map((kind) => int(micros[kind])).join(' / ') : '—';
const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

/**
 * What `name` added over the upstream in each paired round at the goal's rate (p50 and p99, ms), and
 * the median over the rounds; undefined when the run had no paired rounds.
 */
function pairedRounds(results, name) {
  const paired = results.latencyRounds;
  const upstream = results.names.upstream;
  if (!paired?.rounds.length || !paired.targets.includes(name)) return undefined;
  const rounds = { p50: [], p99: [] };
  for (const row of paired.rounds)
    for (const key of ['p50', 'p99']) rounds[key].push(row[name][key] - row[upstream][key]);
  return {
    count: paired.rounds.length,
    rounds,
    p50: median(rounds.p50),
    p99: median(rounds.p99),
    saturated: paired.rounds.some((row) => row[name].saturated),
    errors: paired.rounds.reduce((sum, row) => sum + row[name].errors, 0),
  };
}

/**
 * What `name` added to the upstream's TTFT p50 in each paired stream round (ms), and the median over
 * the rounds; undefined when the run had no paired stream rounds.
 */
function pairedStreamRounds(results, name) {
  const paired = results.streamRounds;
  const upstream = results.names.upstream;
  if (!paired?.rounds.length || !paired.targets.includes(name)) return undefined;
  const rounds = paired.rounds.map((row) => row[name].ttftP50 - row[upstream].ttftP50);
  return {
    count: rounds.length,
    rounds,
    p50: median(rounds),
    errors: paired.rounds.reduce((sum, row) => sum + row[name].errors, 0),
  };
}

/** The issue's goals, measured: [{ goal, measured, pass }] (pass is null when not measured). */
export function evaluateGoals(results) {
  const goals = [];
  const base = results.latency?.find((row) => row.target === results.names.upstream);
  const gantry = results.latency?.find((row) => row.target === results.names.gantry);
  const at500 = (row) => row?.points.find((point) => point.rate === 500);
  const paired = pairedRounds(results, results.names.gantry);
  const saturated = gantry && at500(gantry)?.saturated;
  if (paired && !paired.saturated && !saturated) {
    // Judged on the median of the paired rounds (an error in any of them fails it); the sweep's
    // single window is shown beside it.
    const single = (key) =>
      at500(gantry) && at500(base)
        ? `; sweep's single window ${signed(at500(gantry).latency[key] - at500(base).latency[key])}`
        : '';
    const measured = (key) =>
      `${signed(paired[key])} ms (median of ${paired.count} paired rounds: ${paired.rounds[key].map(signed).join(', ')}${single(key)})${paired.errors ? `, ${paired.errors} errors` : ''}`;
    goals.push({
      goal: 'added latency at 500 req/s, p50 ≤ 0.5 ms',
      measured: measured('p50'),
      pass: paired.p50 <= 0.5 && paired.errors === 0,
    });
    goals.push({
      goal: 'added latency at 500 req/s, p99 ≤ 2 ms',
      measured: measured('p99'),
      pass: paired.p99 <= 2 && paired.errors === 0,
    });
  } else if (!paired && base && gantry && at500(base) && at500(gantry) && !saturated) {
    const p50 = at500(gantry).latency.p50 - at500(base).latency.p50;
    const p99 = at500(gantry).latency.p99 - at500(base).latency.p99;
    goals.push({
      goal: 'added latency at 500 req/s, p50 ≤ 0.5 ms',
      measured: `${ms(p50)} ms`,
      pass: p50 <= 0.5,
    });
    goals.push({ goal: 'added latency at 500 req/s, p99 ≤ 2 ms', measured: `${ms(p99)} ms`, pass: p99 <= 2 });
  } else if (saturated || paired?.saturated) {
    const measured = saturated
      ? `saturated: ${int(at500(gantry).achievedRate)} of 500 req/s answered`
      : 'saturated in a paired round';
    goals.push({ goal: 'added latency at 500 req/s, p50 ≤ 0.5 ms', measured, pass: false });
    goals.push({ goal: 'added latency at 500 req/s, p99 ≤ 2 ms', measured, pass: false });
  }
  const rps = (name) => results.throughput?.find((row) => row.target === name)?.requestsPerSecond;
  const gantryRps = rps(results.names.gantry);
  if (gantryRps && rps(results.names.portkey)) {
    const ratio = gantryRps / rps(results.names.portkey);
    goals.push({ goal: 'peak throughput ≥ 3× Portkey', measured: `${round(ratio, 2)}×`, pass: ratio >= 3 });
  } else {
    goals.push({ goal: 'peak throughput ≥ 3× Portkey', measured: 'Portkey not measured', pass: null });
  }
  if (gantryRps && rps(results.names.bare)) {
    const ratio = gantryRps / rps(results.names.bare);
    goals.push({
      goal: 'peak throughput ≥ 80% of the bare proxy',
      measured: `${round(ratio * 100, 1)}%`,
      pass: ratio >= 0.8,
    });
  }
  const streamRow = (name, concurrency) =>
    results.streams?.find((row) => row.target === name && row.concurrency === concurrency);
  const ttftRows = [100, 1000]
    .map((concurrency) => [
      streamRow(results.names.gantry, concurrency),
      streamRow(results.names.upstream, concurrency),
    ])
    .filter(([a, b]) => a && b);
  const streamPaired = pairedStreamRounds(results, results.names.gantry);
  if (streamPaired && results.streamRounds.concurrency === 100) {
    // At 100 streams judged on the median of the paired rounds (an error in any of them fails it),
    // the single round shown beside it; at 1,000 on its single round.
    const single = ttftRows.find(([a]) => a.concurrency === 100);
    const at1000 = ttftRows.find(([a]) => a.concurrency === 1000);
    const overhead1000 = at1000 ? at1000[0].ttftMs.p50 - at1000[1].ttftMs.p50 : undefined;
    const overhead = Math.max(streamPaired.p50, overhead1000 ?? -Infinity);
    const parts = [
      `${signed(streamPaired.p50)} ms at 100 streams (median of ${streamPaired.count} paired rounds: ${streamPaired.rounds.map(signed).join(', ')}${single ? `; single round ${signed(single[0].ttftMs.p50 - single[1].ttftMs.p50)}` : ''})${streamPaired.errors ? `, ${streamPaired.errors} failed` : ''}`,
    ];
    if (overhead1000 !== undefined) parts.push(`${signed(overhead1000)} ms at 1,000 streams`);
    goals.push({
      goal: 'streaming TTFT overhead p50 ≤ 1 ms (worst of 100 and 1,000 streams)',
      measured: parts.join('; '),
      pass: overhead <= 1 && streamPaired.errors === 0,
    });
  } else if (ttftRows.length) {
    const overhead = Math.max(...ttftRows.map(([a, b]) => a.ttftMs.p50 - b.ttftMs.p50));
    goals.push({
      goal: 'streaming TTFT overhead p50 ≤ 1 ms (worst of 100 and 1,000 streams)',
      measured: `${ms(overhead)} ms`,
      pass: overhead <= 1,
    });
  }
  const big = streamRow(results.names.gantry, 5000);
  if (big) {
    const pass = big.peakRssMb <= 300 && big.errors === 0;
    goals.push({
      goal: '5,000 concurrent streams at RSS ≤ 300 MB',
      measured: `${int(big.peakRssMb)} MB, ${big.errors} failed`,
      pass,
    });
  }
  if (results.coldStart) {
    const p50 = results.coldStart.firstOkMs.p50;
    goals.push({
      goal: 'cold start to first 200 ≤ 500 ms (median)',
      measured: `${int(p50)} ms`,
      pass: p50 <= 500,
    });
  }
  if (results.soak) {
    // V8's old generation grows for minutes between major collections: a trend line through less
    // than five minutes of samples measures that sawtooth, not a leak, so only the full run decides.
    const judged = results.soak.durationS >= 300;
    goals.push({
      goal: 'soak: no RSS growth trend after warm-up',
      measured: `${round(results.soak.slopeMbPerMin, 2)} MB/min (r² ${round(results.soak.r2, 2)}) over ${results.soak.durationS} s${judged ? '' : ' (too short to judge; the full run soaks 10 min)'}`,
      pass: judged ? results.soak.noGrowthTrend : null,
    });
  }
  return goals;
}

export function renderMarkdown(results) {
  const out = [];
  const { meta } = results;
  out.push(`### ${meta.mode} run, ${meta.date}`);
  out.push('');
  out.push(
    `Commit \`${meta.commit}\` · Node ${meta.node}${meta.shippedNode ? " (Gantry's image runtime: Gantry, the bare proxy, the upstream and the load generator run on it)" : ''}${meta.portkeyNode && meta.portkeyNode !== meta.node ? `, Portkey on Node ${meta.portkeyNode}` : ''} · ${meta.cpus} × ${meta.cpuModel} · load average before ${meta.loadBefore.join(' / ')}, after ${meta.loadAfter?.join(' / ') ?? '—'}`,
  );
  out.push('');
  out.push(`Layout: ${meta.layout}`);
  if (meta.notes.length) {
    out.push('');
    for (const note of meta.notes) out.push(`- ${note}`);
  }
  out.push('');
  out.push('#### Goals');
  out.push('');
  out.push(
    table(
      ['goal', 'measured', 'met'],
      results.goals.map((goal) => [
        goal.goal,
        goal.measured,
        goal.pass === null ? 'n/a' : goal.pass ? 'yes' : '**no**',
      ]),
    ),
  );

  if (results.latency) {
    const base = results.latency.find((row) => row.target === results.names.upstream);
    const rates = base.points.map((point) => point.rate);
    out.push('');
    out.push('#### Latency at fixed rates (open loop, ms, from the scheduled send time)');
    out.push('');
    out.push(
      'p50 / p99, and in brackets what the target adds over calling the upstream directly at the same rate.',
    );
    out.push('');
    const rows = results.latency.map((row) => [
      row.target,
      ...rates.map((rate) => {
        const point = row.points.find((each) => each.rate === rate);
        const basePoint = base.points.find((each) => each.rate === rate);
        if (!point) return '—';
        if (point.saturated) return `saturated (${int(point.achievedRate)}/s done, ${point.errors} errors)`;
        const cell = `${ms(point.latency.p50)} / ${ms(point.latency.p99)}`;
        if (row === base) return cell;
        return `${cell} (${signed(point.latency.p50 - basePoint.latency.p50)} / ${signed(point.latency.p99 - basePoint.latency.p99)})${point.errors ? `, ${point.errors} errors` : ''}`;
      }),
    ]);
    out.push(table(['target', ...rates.map((rate) => `${rate} req/s`)], rows));
  }

  if (results.latencyRounds?.rounds.length) {
    const { rate, durationMs, rounds, targets } = results.latencyRounds;
    const measured = targets.filter((name) => name !== results.names.upstream);
    const summaries = measured.map((name) => pairedRounds(results, name));
    out.push('');
    out.push(`#### Added latency at ${rate} req/s in paired rounds (ms)`);
    out.push('');
    out.push(
      `${rounds.length} rounds of ${durationMs / 1000} s: in each, the upstream, the floor and Gantry take turns (the order reversed every other round), and each cell is what the target added over the upstream in that round, p50 / p99. The goals are judged on the median row.`,
    );
    out.push('');
    const cell = (summary, index) =>
      `${signed(summary.rounds.p50[index])} / ${signed(summary.rounds.p99[index])}`;
    out.push(
      table(
        ['round', 'upstream p50 / p99', ...measured],
        [
          ...rounds.map((row, index) => [
            String(index + 1),
            `${ms(row[results.names.upstream].p50)} / ${ms(row[results.names.upstream].p99)}`,
            ...summaries.map((summary) => cell(summary, index)),
          ]),
          [
            '**median**',
            '',
            ...summaries.map(
              (summary) =>
                `**${signed(summary.p50)} / ${signed(summary.p99)}**${summary.errors ? `, ${summary.errors} errors` : ''}`,
            ),
          ],
        ],
      ),
    );
  }

  if (results.throughput) {
    const bare = results.throughput.find((row) => row.target === results.names.bare);
    const portkey = results.throughput.find((row) => row.target === results.names.portkey);
    // Runs before the closed-loop warm-up rounds (2026-12-07) are rendered as they were published.
    const warmedUp = results.throughput.some((row) => row.warmupCpuMicrosPerRound);
    out.push('');
    out.push(
      `#### Peak throughput (closed loop, autocannon, ${results.throughput[0].connections} connections)`,
    );
    out.push('');
    out.push(
      `${warmedUp ? 'Each target first runs unmeasured closed-loop rounds (their CPU per request is shown): a process that has only seen the open-loop rates spends its first seconds at this concurrency compiling and resizing its heap. ' : ''}On a shared core the req/s column measures the share of the core a target got as much as the target; CPU time per request does not, so "req/s per busy core" is what each would do with a core to itself. The Fastify proxy is the framework floor: the bare proxy's job done on Fastify, parsing and re-serializing both JSON bodies (\`bench/fastify-proxy.mjs\`); the gap from it to Gantry is Gantry's own work. By thread: the event loop, worker threads (Gantry's embedded database), V8's helper threads (garbage collection, compilation) and the rest.`,
    );
    out.push('');
    out.push(
      table(
        [
          'target',
          'req/s',
          'vs bare proxy',
          'vs Portkey',
          'target CPU µs/request',
          'req/s per busy core (10⁶ / CPU µs)',
          'µs by thread: main / workers / V8 / other',
          'p50 / p99 ms',
          'non-2xx / errors',
          ...(warmedUp ? ['warm-up rounds, CPU µs/request (unmeasured)'] : []),
        ],
        results.throughput.map((row) => [
          row.target,
          int(row.requestsPerSecond),
          bare ? `${round((row.requestsPerSecond / bare.requestsPerSecond) * 100, 1)}%` : '—',
          portkey ? `${round(row.requestsPerSecond / portkey.requestsPerSecond, 2)}×` : '—',
          int(row.cpuMicrosPerRequest),
          int(1e6 / row.cpuMicrosPerRequest),
          byThread(row.threadCpuSeconds && perRequest(row.threadCpuSeconds, row.ok)),
          `${ms(row.latencyMs.p50)} / ${ms(row.latencyMs.p99)}`,
          `${row.non2xx} / ${row.errors}`,
          ...(warmedUp ? [row.warmupCpuMicrosPerRound?.join(' → ') ?? '—'] : []),
        ]),
      ),
    );
  }

  if (results.features) {
    const base = results.features.find((row) => row.variant === 'defaults');
    out.push('');
    out.push('#### Cost of each default feature (Gantry, 1 worker, same closed-loop run)');
    out.push('');
    out.push(
      'CPU per request is the steadier number on a shared machine; the difference to the defaults row is what the feature costs, compared on the median round (one noisy round does not move it; the pooled figure over all rounds is shown too). The variants run side by side, each on a copy of one migrated data directory, are warmed up with unmeasured rounds (their CPU per request is shown: a fresh process pays for compiling its hot paths) and are then measured in alternating rounds; the per-round figures show the noise. Usage accounting is a default too: one row per request into the embedded database, which runs on a worker thread of the same process.',
    );
    out.push('');
    out.push(
      table(
        [
          'variant',
          'req/s',
          'CPU µs/request, all rounds',
          'median round',
          'per round',
          'warm-up rounds (unmeasured)',
          'µs by thread: main / workers / V8 / other',
          'saved vs defaults',
        ],
        results.features.map((row) => [
          row.variant,
          int(row.requestsPerSecond),
          int(row.cpuMicrosPerRequest),
          int(medianRound(row)),
          row.cpuMicrosPerRound?.join(' / ') ?? '—',
          row.warmupCpuMicrosPerRound?.join(' → ') ?? '—',
          byThread(row.threadCpuSeconds && perRequest(row.threadCpuSeconds, row.ok)),
          row === base ? '—' : `${int(medianRound(base) - medianRound(row))} µs`,
        ]),
      ),
    );
  }

  if (results.streams) {
    out.push('');
    out.push('#### Concurrent streams');
    out.push('');
    out.push(
      'TTFT from send to the first body bytes; "added" compares with the upstream called directly at the same concurrency. Chunk gap is the mean gap per stream after the first chunk (the upstream sends one every `delay` ms).',
    );
    out.push('');
    const base = (concurrency) =>
      results.streams.find((row) => row.target === results.names.upstream && row.concurrency === concurrency);
    out.push(
      table(
        [
          'target',
          'streams',
          'chunks',
          'delay ms',
          'ok / failed',
          'TTFT p50 / p99',
          'TTFT added p50',
          'chunk gap p50 / p99',
          'added per chunk p50',
          'peak RSS MB',
          'CPU s',
        ],
        results.streams.map((row) => {
          const reference = base(row.concurrency);
          const isBase = row === reference;
          return [
            row.target,
            int(row.concurrency),
            row.chunks,
            row.delayMs,
            `${row.ok} / ${row.errors}`,
            `${ms(row.ttftMs.p50)} / ${ms(row.ttftMs.p99)}`,
            isBase || !reference ? '—' : ms(row.ttftMs.p50 - reference.ttftMs.p50),
            `${ms(row.chunkGapMs.p50)} / ${ms(row.chunkGapMs.p99)}`,
            isBase || !reference ? '—' : ms(row.chunkGapMs.p50 - reference.chunkGapMs.p50),
            int(row.peakRssMb),
            ms(row.targetCpuSeconds),
          ];
        }),
      ),
    );
  }

  if (results.streamRounds?.rounds.length) {
    const { rounds, targets, concurrency, chunks, delayMs } = results.streamRounds;
    const upstream = results.names.upstream;
    const measured = targets.filter((name) => name !== upstream);
    const summaries = measured.map((name) => pairedStreamRounds(results, name));
    out.push('');
    out.push(`#### TTFT at ${int(concurrency)} streams in paired rounds (ms)`);
    out.push('');
    out.push(
      `${rounds.length} rounds of ${int(concurrency)} streams of ${chunks} chunks (${delayMs} ms apart): in each, the upstream, the floor and Gantry take turns (the order reversed every other round), and each cell is what the target added to the upstream's TTFT p50 in that round. The goal at this count is judged on the median row.`,
    );
    out.push('');
    out.push(
      table(
        ['round', 'upstream TTFT p50 / p99', ...measured],
        [
          ...rounds.map((row, index) => [
            String(index + 1),
            `${ms(row[upstream].ttftP50)} / ${ms(row[upstream].ttftP99)}`,
            ...summaries.map(
              (summary, column) =>
                `${signed(summary.rounds[index])}${row[measured[column]].errors ? `, ${row[measured[column]].errors} failed` : ''}`,
            ),
          ]),
          ['**median**', '', ...summaries.map((summary) => `**${signed(summary.p50)}**`)],
        ],
      ),
    );
    if (results.streamWarmup?.length) {
      out.push('');
      out.push(
        `Before them, every target relayed unmeasured warm-up rounds of 100 streams of 50 chunks; its CPU seconds per round: ${results.streamWarmup.map((row) => `${row.target} ${row.cpuSeconds.map((value) => ms(value)).join(' → ')}`).join('; ')}.`,
      );
    }
  }

  if (results.coldStart) {
    const cold = results.coldStart;
    const starts = (label, part) =>
      `${label}median ${int(part.firstOkMs.p50)} ms, min ${int(part.firstOkMs.min)} ms, max ${int(part.firstOkMs.max)} ms${part.failed ? `, ${part.failed} failed` : ''}.`;
    out.push('');
    out.push('#### Cold start (spawn → first 200 on /v1/chat/completions, embedded defaults, no config)');
    out.push('');
    if (cold.withoutCodeCache) {
      // Since round twenty-four: as the image ships, with V8's code cache, and without it.
      out.push(
        starts(
          `${cold.runs} runs with V8's code cache, as the image ships (\`NODE_COMPILE_CACHE\`, made by one unmeasured start): `,
          cold,
        ),
      );
      out.push('');
      out.push(starts(`${cold.runs} runs without it, alternating with those: `, cold.withoutCodeCache));
    } else out.push(starts(`${cold.runs} runs: `, cold));
  }

  if (results.soak) {
    const soak = results.soak;
    out.push('');
    out.push(
      `#### Soak (${soak.durationS} s, ${soak.rate} chat req/s open loop + ${soak.streams} streams always running)`,
    );
    out.push('');
    out.push(
      `RSS ${int(soak.startMb)} MB at start, peak ${int(soak.peakMb)} MB, mean after the ${soak.warmupS} s warm-up ${int(soak.steadyMeanMb)} MB; slope ${round(soak.slopeMbPerMin, 2)} MB/min (r² ${round(soak.r2, 2)}), ${round(soak.growthOverWindowMb, 1)} MB over the steady window → ${soak.durationS < 300 ? 'too short to judge a trend (V8 grows its old generation for minutes between major collections; the full run soaks 10 minutes)' : soak.noGrowthTrend ? 'no growth trend' : '**growth trend**'}. Chat p50 / p99 ${ms(soak.chat.p50)} / ${ms(soak.chat.p99)} ms, ${soak.chat.errors} errors; ${soak.streamed.completed} streams completed, ${soak.streamed.failed} failed.`,
    );
    if (soak.components) {
      const labels = {
        wasm: 'WebAssembly memory (the embedded database)',
        anon: 'other anonymous memory (V8 heaps, malloc, stacks)',
        file: 'mapped files',
        heapUsed: "the main thread's V8 heap, used",
        heapTotal: "the main thread's V8 heap, total",
        databaseHeapUsed: "the database thread's V8 heap, used",
        databaseHeapTotal: "the database thread's V8 heap, total",
      };
      out.push('');
      out.push(
        'Where the resident memory is, sampled every 10 s (`/proc/<pid>/smaps`, and the V8 heaps from `/metrics`, which are part of the anonymous memory): first → last sample after the warm-up, mean, and what a line through the samples adds over the steady window.',
      );
      out.push('');
      out.push('| part | first → last MB | mean MB | growth over the window MB | slope MB/min |');
      out.push('|---|---|---|---|---|');
      for (const [name, trend] of Object.entries(soak.components)) {
        out.push(
          `| ${labels[name] ?? name} | ${int(trend.first)} → ${int(trend.last)} | ${int(trend.mean)} | ${round(trend.growthOverWindowMb, 1)} | ${round(trend.slopeMbPerMin, 2)} |`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** Rewrites the results section of docs/benchmarks.md (between its markers) with this run. */
export function publishToDocs(docsPage, results, markdown) {
  const page = readFileSync(docsPage, 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  if (!page.includes(start) || !page.includes(end)) return false;
  const chart = results.latency
    ? `\n![Latency vs rate](../bench/results/${results.meta.mode}-latency.png)\n`
    : '';
  writeFileSync(
    docsPage,
    `${page.slice(0, page.indexOf(start) + start.length)}\n\n${markdown}${chart}\n${page.slice(page.indexOf(end))}`,
  );
  return true;
}
