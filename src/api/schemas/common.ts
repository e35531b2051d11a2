import { z } from 'zod';

/** Names, ids and uids: printable, bounded, no control characters. */
export const Name = z.string().trim().min(1).max(256);
export const Ref = z.string().min(1).max(256).regex(/^[A-Za-z0-9_.:~-]+$/, 'may contain letters, digits and _ . : ~ - only');
export const EventTypeName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain letters, digits and _ . : - only');
export const Channel = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'may contain letters, digits and _ . : - only');
export const Metadata = z.record(z.string().max(256), z.string().max(4096)).refine((m) => Object.keys(m).length <= 64, 'at most 64 keys');

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(250).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const ConsumerParams = z.object({ consumer: Ref });
export const EndpointParams = z.object({ consumer: Ref, endpoint: Ref });
export const MessageParams = z.object({ consumer: Ref, message: Ref });
