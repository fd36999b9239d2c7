import { prefetchSuite } from './e2e/prefetch.ts';
import { STORES } from './stores.ts';

for (const make of STORES) prefetchSuite(make);
