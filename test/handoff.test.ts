import { handoffSuite } from './e2e/handoff.ts';
import { STORES } from './stores.ts';

for (const make of STORES) handoffSuite(make);
