import { typeid } from 'typeid-js';

/** Prefixed, time-sortable ids (TypeID: UUIDv7 underneath), so ids sort by creation and say what they are. */
export type IdPrefix = 'ten' | 'key' | 'con' | 'ep' | 'msg' | 'dlv' | 'atm' | 'aud';

export const newId = (prefix: IdPrefix): string => typeid(prefix).toString();
