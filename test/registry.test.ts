import { registrySuite } from './e2e/registry.ts';
import { STORES } from './stores.ts';

for (const make of STORES) registrySuite(make);
