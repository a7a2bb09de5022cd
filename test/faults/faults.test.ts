import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FaultRig, startFaultRig } from './fault-rig.js';
import { describeNonStreamFaults } from './non-stream-faults.js';
import { describeSdkErrors } from './sdk-errors.js';
import { describeStreamFaults } from './stream-faults.js';

// One Gantry process in front of two fake upstreams serves every case below (a process start is
// the slow part of these tests); each case resets the upstreams' behaviour and attempt logs.
let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(async () => {
  await rig?.stop();
});
beforeEach(() => rig.reset());

const current = () => rig;
describeNonStreamFaults(current);
describeStreamFaults(current);
describeSdkErrors(current);

describe('the gateway process after every fault', () => {
  it('is alive and logged no unhandled error (client disconnects included)', async () => {
    expect(rig.gantry.child.exitCode).toBeNull();
    const response = await rig.post('/v1/chat/completions', {
      model: 'solo',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    const errors = rig.gantry.logs().filter((line) => line.level === 'error' || line.level === 'fatal');
    expect(errors).toEqual([]);
  });
});
