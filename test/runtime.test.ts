import { runtimeSuite } from './e2e/suite.ts';
import { STORES } from './stores.ts';

for (const make of STORES) runtimeSuite(make);
