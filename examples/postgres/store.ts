/** The PostgreSQL store both processes of the example open: `DATABASE_URL`, schema `offload_example`. */
import { postgres } from '../../src/storage/postgres/index.ts';

export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export function exampleStore() {
  return postgres({ url: DATABASE_URL, schema: 'offload_example' });
}
