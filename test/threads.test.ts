import { threadsSuite } from './e2e/threads.ts';
import { STORES } from './stores.ts';

for (const make of STORES) threadsSuite(make);
