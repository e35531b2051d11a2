import { TypeID, typeid } from 'typeid-js';

/** Prefixed, time-sortable ids (TypeID: UUIDv7 underneath), so ids sort by creation and say what they are. */
export type IdPrefix = 'ten' | 'key' | 'con' | 'ep' | 'msg' | 'dlv' | 'atm' | 'aud' | 'usr' | 'inv' | 'ses' | 'rpl' | 'pwr';

export const newId = (prefix: IdPrefix): string => typeid(prefix).toString();

/**
 * The smallest id of this prefix made at `at` or later (a UUIDv7 with that millisecond and zero random
 * bits): `id < idAt(prefix, t)` selects by the primary key what was made before t.
 */
export function idAt(prefix: IdPrefix, at: Date): string {
  const ms = Math.max(0, at.getTime()).toString(16).padStart(12, '0');
  return TypeID.fromUUID(prefix, `${ms.slice(0, 8)}-${ms.slice(8)}-7000-8000-000000000000`).toString();
}
