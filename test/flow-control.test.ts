import { flowControlSuite } from './e2e/flow-control.ts';
import { STORES } from './stores.ts';

for (const make of STORES) flowControlSuite(make);
