import { jobsBulkSuite } from './e2e/jobs-bulk.ts';
import { STORES } from './stores.ts';

for (const make of STORES) jobsBulkSuite(make);
