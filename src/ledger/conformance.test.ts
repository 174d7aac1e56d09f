import { describeLedgerConformance } from './conformance.ts';
import { postgresHarness, sqliteHarness } from './testing/harness.ts';

describeLedgerConformance(sqliteHarness);
describeLedgerConformance(await postgresHarness());
