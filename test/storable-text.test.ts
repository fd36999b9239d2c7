import { storableTextSuite } from './e2e/storable-text.ts';
import { STORES } from './stores.ts';

for (const make of STORES) storableTextSuite(make);
