import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from '../storage/test-database.js';
import { admin, chat, startStateGantry } from './state-gantry.js';

/** USD per million tokens: a 24-word mock answer to a short prompt costs about $0.003. */
const PRICE = { input: 100, output: 100 };
const BUDGET_USD = 0.01;

const CONFIG = `
app: { default_model: priced }
models:
  - alias: priced
    deployments:
      - provider: mock
        model: mock-priced
        mock: { words: 24 }
        price: { input: ${PRICE.input}, output: ${PRICE.output} }
`;

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

function costOf(usage: Usage): number {
  return (usage.prompt_tokens * PRICE.input + usage.completion_tokens * PRICE.output) / 1_000_000;
}

describe.each(databaseVariants())('budgets through the gateway (%s)', (kind) => {
  let database: TestDatabase;
  let gantry: GantryProcess;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    gantry = await startStateGantry({
      configYaml: CONFIG,
      env: { DATABASE_URL: database.url, DATA_DIR: database.dataDir },
    });
  }, 90_000);

  afterAll(async () => {
    await gantry?.stop();
    await database?.drop();
  });

  it('serves a key until its spend reaches budget_usd, then answers 429 budget_exceeded', async () => {
    const created = await admin(gantry, 'POST', '/admin/keys', {
      name: 'small-budget',
      budget_usd: BUDGET_USD,
      budget_period: 'total',
    });
    expect(created.status).toBe(201);
    const unlimited = await admin(gantry, 'POST', '/admin/keys', { name: 'no-budget' });
    let spent = 0;
    let served = 0;
    let refusal: { status: number; body: { error: Record<string, unknown> } } | undefined;
    for (let attempt = 0; attempt < 20 && !refusal; attempt += 1) {
      const spentBefore = spent;
      const response = await chat(gantry, created.body.key, { model: 'priced' });
      const body = (await response.json()) as { usage: Usage; error: Record<string, unknown> };
      if (response.status === 200) {
        // Refusing only at or past the budget: this request was admitted with spend still under it.
        expect(spentBefore).toBeLessThan(BUDGET_USD);
        spent += costOf(body.usage);
        served += 1;
      } else {
        refusal = { status: response.status, body };
      }
    }
    expect(served).toBeGreaterThan(1);
    expect(spent).toBeGreaterThanOrEqual(BUDGET_USD);
    expect(refusal?.status).toBe(429);
    expect(refusal?.body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect(String(refusal?.body.error.message)).toContain(`$${BUDGET_USD}`);
    console.log(
      `[state tests] budget $${BUDGET_USD}: ${served} requests served for $${spent.toFixed(4)}, then 429`,
    );

    // The refusal sticks, the key reports its spend, and keys without a budget are unaffected.
    expect((await chat(gantry, created.body.key, { model: 'priced' })).status).toBe(429);
    const read = await admin(gantry, 'GET', `/admin/keys/${created.body.id}`);
    expect(read.body.spent_usd).toBeCloseTo(spent, 9);
    expect((await chat(gantry, unlimited.body.key, { model: 'priced' })).status).toBe(200);
    const usage = await admin(gantry, 'GET', `/admin/usage?group_by=key&key_id=${created.body.id}`);
    // Refused requests never reached an upstream: only the served ones are usage.
    expect(usage.body.data[0]).toMatchObject({ requests: served });
    expect(usage.body.data[0].cost_usd).toBeCloseTo(spent, 9);
  }, 60_000);
});
