import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => delay(ms);
