import { afterAll, beforeAll, beforeEach } from 'vitest';
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
