import { z } from 'zod';
import * as eventTypes from '../../domain/event-types.ts';
import { tenantOf } from '../plugins/auth.ts';
import { EventTypeName, nameCursor, pageOf, pageQuery } from '../schemas/common.ts';
import { EventTypeIn, EventTypeOut, EventTypePatch } from '../schemas/resources.ts';
import { Compatibility, SchemaCheckIn, SchemaVersionOut } from '../schemas/delivery-control.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['event-types'];
const EventTypeParams = z.object({ eventType: EventTypeName.describe('The event type’s name') });

export function eventTypeRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/event-types', {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'createEventType',
      summary: 'Register an event type',
      description:
        'The catalog of event types documents what you publish; registering a type is optional unless the tenant sets requireDeclaredEventTypes. ' +
        'A `schema` (JSON Schema 2020-12) is enforced at publish (422 schema-mismatch) and becomes version 1. A name already taken answers 409.',
      body: EventTypeIn,
      response: { 201: EventTypeOut },
    },
    handler: async (req, reply) => {
      const created = await eventTypes.createEventType(deps, tenantOf(req), req.body);
      deps.catalog?.invalidate(tenantOf(req), req.body.name);
      return reply.code(201).send(created);
    },
  });
  app.get('/v1/event-types', {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'listEventTypes',
      summary: 'List event types',
      description: 'By name; archived types only with includeArchived=true.',
      querystring: pageQuery(nameCursor()).extend({ includeArchived: z.stringbool().default(false).describe('Include archived types') }),
      response: { 200: pageOf(EventTypeOut) },
    },
    handler: (req) => eventTypes.listEventTypes(deps, tenantOf(req), req.query),
  });
  app.get('/v1/event-types/:eventType', {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'getEventType',
      summary: 'Get an event type',
      description: 'Archived or not.',
      params: EventTypeParams,
      response: { 200: EventTypeOut },
    },
    handler: (req) => eventTypes.getEventType(deps, tenantOf(req), req.params.eventType),
  });
  app.patch('/v1/event-types/:eventType', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'updateEventType',
      summary: 'Update an event type',
      description:
        'Only the fields sent change; `schema: null` removes the schema. A schema sent becomes the next version and is enforced at once; ' +
        '`compatibility` says whether it breaks the previous version (a property newly required, a type narrowed…). The name cannot change.',
      params: EventTypeParams,
      body: EventTypePatch,
      response: { 200: EventTypeOut },
    },
    handler: async (req) => {
      const updated = await eventTypes.updateEventType(deps, tenantOf(req), req.params.eventType, req.body);
      deps.catalog?.invalidate(tenantOf(req), req.params.eventType);
      return updated;
    },
  });
  app.delete('/v1/event-types/:eventType', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'deleteEventType',
      summary: 'Delete an event type',
      description:
        'Removes it from the catalog. Messages already published keep its name, and endpoints filtering on it are left as they are.',
      params: EventTypeParams,
      response: { 204: z.null().describe('Deleted') },
    },
    handler: async (req, reply) => {
      await eventTypes.deleteEventType(deps, tenantOf(req), req.params.eventType);
      deps.catalog?.invalidate(tenantOf(req), req.params.eventType);
      return reply.code(204).send(null);
    },
  });
  app.post('/v1/event-types/:eventType/archive', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'archiveEventType',
      summary: 'Archive an event type',
      description:
        'Hides it from lists (unless includeArchived=true); publishing is unaffected. Archiving an archived type changes nothing.',
      params: EventTypeParams,
      response: { 200: EventTypeOut },
    },
    handler: (req) => eventTypes.setEventTypeArchived(deps, tenantOf(req), req.params.eventType, true),
  });
  app.post('/v1/event-types/:eventType/unarchive', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'unarchiveEventType',
      summary: 'Unarchive an event type',
      description: 'Lists show it again.',
      params: EventTypeParams,
      response: { 200: EventTypeOut },
    },
    handler: (req) => eventTypes.setEventTypeArchived(deps, tenantOf(req), req.params.eventType, false),
  });
  app.get('/v1/event-types/:eventType/schemas', {
    config: { access: 'read' },
    schema: {
      tags,
      operationId: 'listEventTypeSchemas',
      summary: 'List an event type’s schema versions',
      description: 'Every schema the type has had, newest first (at most 100), each with whether it broke the one before.',
      params: EventTypeParams,
      response: { 200: z.object({ data: z.array(SchemaVersionOut) }) },
    },
    handler: async (req) => ({ data: await eventTypes.listSchemaVersions(deps, tenantOf(req), req.params.eventType) }),
  });
  app.post('/v1/event-types/:eventType/schemas/check', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'checkEventTypeSchema',
      summary: 'Check a schema change without saving it',
      description: 'Whether the schema sent, as the next version, would break the current one, and why. Nothing is saved.',
      params: EventTypeParams,
      body: SchemaCheckIn,
      response: { 200: Compatibility },
    },
    handler: (req) => eventTypes.checkSchema(deps, tenantOf(req), req.params.eventType, req.body.schema),
  });
}
