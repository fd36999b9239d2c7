import { driverSuite } from '../src/storage/drivertest/suite.ts';
import { STORES } from './stores.ts';

for (const make of STORES) driverSuite(make().name, make);
