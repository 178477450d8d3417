import { createDeliveryLedger } from '../../store/deliveries.ts';
import { client, tableName } from './client.ts';

/** The notifier's delivery ledger. */
export const deliveries = createDeliveryLedger(client, tableName);
