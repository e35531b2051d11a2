/** The id prefixes the API names in its patterns and examples (ids are made by the store, store/ids.ts). */
export type { IdPrefix } from '../store/ids.ts';
