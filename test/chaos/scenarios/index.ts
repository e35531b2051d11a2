import type { Scenario } from '../lib/scenario.ts';
import { clockSkew } from './clock-skew.ts';
import { dbOutage } from './db-outage.ts';
import { diskFull } from './disk-full.ts';
import { hostileClients } from './hostile-clients.ts';
import { hostileReceivers } from './hostile-receivers.ts';
import { kills } from './kills.ts';
import { memoryPressure } from './memory-pressure.ts';
import { partition } from './partition.ts';
import { redisOutage } from './redis-outage.ts';
import { soak } from './soak.ts';
import { storm } from './storm.ts';
import { volume } from './volume.ts';

/** Every scenario, in the order `npm run test:chaos` runs them. */
export const scenarios: Scenario[] = [
  volume,
  kills,
  dbOutage,
  redisOutage,
  partition,
  hostileReceivers,
  hostileClients,
  clockSkew,
  storm,
  diskFull,
  memoryPressure,
  soak,
];
