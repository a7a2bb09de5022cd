import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './build-context.js';
import { docker, runDetached, uniqueSuffix, waitHealthy, writeMountedConfig } from './docker.js';
import { startChatStream } from './sse.js';

const MASTER_KEY = 'sk-container-test-master-key-0123456789';
const MODEL_NAME = 'house-model';
// The MODEL_NAME alias is a mock that streams 20 words 100 ms apart: about two seconds, long
// enough to stop the container while streams are in flight.
const CONFIG_YAML = `
models:
  - alias: ${MODEL_NAME}
    deployments:
      - provider: mock
        model: ${MODEL_NAME}
        mock: { chunk_delay: "100ms", words: 20 }
`;

/** Metric names in a Prometheus text exposition (# TYPE lines; histograms add _bucket/_sum/_count). */
function exposedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!typed) continue;
    const [, name, type] = typed;
    names.add(name!);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

interface DashboardPanel {
  datasource?: { uid?: string };
  targets?: Array<{ expr?: unknown }>;
  panels?: DashboardPanel[];
}

interface Dashboard {
  panels: DashboardPanel[];
  templating?: { list?: Array<{ type: string; query?: string | { query?: string } }> };
}

/** Every PromQL expression of a Grafana dashboard: panel targets (rows included) and query variables. */
function dashboardExpressions(dashboard: Dashboard): string[] {
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  const expressions: unknown[] = panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => target.expr),
  );
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    expressions.push(typeof variable.query === 'string' ? variable.query : variable.query?.query);
  }
  return expressions.filter((expression): expression is string => typeof expression === 'string');
}

describe('docker run: read-only, no capabilities, non-root', () => {
  const image = inject('image');
  const container = `gantry-run-${uniqueSuffix()}`;
  const configDirectory = mkdtempSync(join(tmpdir(), 'gantry-run-config-'));
  let url: string;

  beforeAll(async () => {
    const configFile = writeMountedConfig(configDirectory, CONFIG_YAML);
    url = await runDetached(container, image, [
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--volume',
      `${configFile}:/etc/gantry/gantry.yaml:ro`,
      '--env',
      'GANTRY_CONFIG=/etc/gantry/gantry.yaml',
      '--env',
      `MODEL_NAME=${MODEL_NAME}`,
      '--env',
      'APP_MODE=prod',
      '--env',
      `GANTRY_MASTER_KEY=${MASTER_KEY}`,
    ]);
  });

  afterAll(async () => {
    // --volumes: the anonymous /data volume goes with the container.
    await docker(['rm', '--force', '--volumes', container], { allowFailure: true });
    rmSync(configDirectory, { recursive: true, force: true });
  });

  it('turns healthy through its own HEALTHCHECK', async () => {
    await waitHealthy(container, 90_000);
    const { stdout } = await docker(['inspect', '--format', '{{json .State.Health.Log}}', container]);
    const probes = JSON.parse(stdout) as Array<{ ExitCode: number }>;
    expect(probes.at(-1)?.ExitCode).toBe(0);
  });

  it('runs as uid 10001, not root, with node as PID 1', async () => {
    const { stdout: uid } = await docker(['exec', container, 'id', '-u']);
    expect(uid.trim()).toBe('10001');
    const { stdout: status } = await docker(['exec', container, 'cat', '/proc/1/status']);
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    const { stdout: command } = await docker(['exec', container, 'cat', '/proc/1/cmdline']);
    expect(command.split('\0').filter(Boolean)).toEqual(['node', 'dist/cli/main.js', 'serve']);
  });

  it("runs V8's background threads 10 nice levels below the event loop, with every capability dropped", async () => {
    const { stdout } = await docker([
      'exec',
      container,
      'sh',
      '-c',
      'cd /proc/1/task && for t in *; do printf "%s|%s\\n" "$(cat $t/comm)" "$(cat $t/stat)"; done',
    ]);
    // /proc/<pid>/task/<tid>/stat: after the ")" that closes the name, field 19 (nice) is the 17th.
    const threads = stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [name, stat] = [line.slice(0, line.indexOf('|')), line.slice(line.indexOf('|') + 1)];
        return { name, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
      });
    const background = threads.filter((thread) => thread.name.startsWith('V8Worker'));
    expect(background.length).toBeGreaterThan(0);
    expect(background.map((thread) => thread.nice)).toEqual(background.map(() => 10));
    expect(threads.find((thread) => thread.name === 'MainThread')?.nice).toBe(0);
  });

  it('has a read-only root filesystem: only /data and /tmp are writable', async () => {
    const root = await docker(['exec', container, 'touch', '/app/probe'], { allowFailure: true });
    expect(root.code).not.toBe(0);
    expect(root.stderr).toMatch(/Read-only file system/);
    await docker(['exec', container, 'touch', '/tmp/probe', '/data/probe']);
  });

  it('GET / reflects MODEL_NAME and APP_MODE', async () => {
    const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(15_000) });
    expect(response.status).toBe(200);
    const info = (await response.json()) as { mode: string; default_model: string; models: string[] };
    expect(info.mode).toBe('prod');
    expect(info.default_model).toBe(MODEL_NAME);
  });

  it('answers chat on the mock provider, with the master key required in prod mode', async () => {
    const body = JSON.stringify({ model: MODEL_NAME, messages: [{ role: 'user', content: 'hello' }] });
    const anonymous = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(anonymous.status).toBe(401);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body,
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as {
      model: string;
      choices: Array<{ message: { content: string } }>;
    };
    expect(completion.model).toBe(MODEL_NAME);
    expect(completion.choices[0]!.message.content.length).toBeGreaterThan(0);
  });

  it('exposes every metric the Grafana dashboard queries', async () => {
    const dashboardPath = join(REPO_ROOT, 'deploy/compose/grafana/dashboards/gantry.json');
    const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThanOrEqual(10);
    const exposition = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(15_000) })).text();
    const exposed = exposedMetricNames(exposition);
    const queried = new Set(
      expressions.flatMap((expression) => expression.match(/\bgantry_[a-z0-9_]+/g) ?? []),
    );
    expect(queried.size).toBeGreaterThanOrEqual(8);
    expect([...queried].filter((name) => !exposed.has(name))).toEqual([]);
    // What the issue asks the dashboard to show, each by its metric.
    for (const metric of [
      'gantry_requests_total',
      'gantry_request_duration_seconds_bucket',
      'gantry_ttft_seconds_bucket',
      'gantry_tokens_total',
      'gantry_inflight_requests',
      'gantry_queue_depth',
      'gantry_circuit_state',
    ]) {
      expect(queried, metric).toContain(metric);
    }
    // Panels use the provisioned datasource.
    const provisioning = parseYaml(
      readFileSync(join(REPO_ROOT, 'deploy/compose/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; url: string }> };
    const uids = new Set(provisioning.datasources.map((datasource) => datasource.uid));
    const panelUids = dashboard.panels.map((panel) => panel.datasource?.uid);
    expect(panelUids.filter((uid) => uid === undefined || !uids.has(uid))).toEqual([]);
    expect(provisioning.datasources[0]!.url).toBe('http://prometheus:9090');
  });

  it('docker stop during active streams lets them complete, and node exits 0 within the grace period', async () => {
    const streams = Array.from({ length: 3 }, (_, index) =>
      startChatStream(
        url,
        { model: MODEL_NAME, messages: [{ role: 'user', content: `stream ${index}` }] },
        { authorization: `Bearer ${MASTER_KEY}` },
      ),
    );
    await Promise.all(streams.map((stream) => stream.firstChunk));
    // Grace period 25 s (shutdown.timeout defaults to 30 s, the streams need about 2 s).
    const stop = docker(['stop', '--time', '25', container]);
    const outcomes = await Promise.all(streams.map((stream) => stream.outcome));
    await stop;
    for (const outcome of outcomes) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.finishReason).toBe('stop');
      expect(outcome.done).toBe(true);
      expect(outcome.text.split(/\s+/).filter(Boolean).length).toBeGreaterThanOrEqual(20);
    }
    const { stdout } = await docker([
      'inspect',
      '--format',
      '{{.State.ExitCode}} {{.State.OOMKilled}}',
      container,
    ]);
    // 0, not 137: node drained and exited by itself; SIGKILL at the end of the grace period was not needed.
    expect(stdout.trim()).toBe('0 false');
    const { stdout: logs } = await docker(['logs', container]);
    expect(logs).toMatch(/"signal":"SIGTERM"/);
  });
});
