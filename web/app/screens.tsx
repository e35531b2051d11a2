// The dashboard's screens, one file each (app.tsx routes to them).
export * from './screens/overview.tsx';
export * from './screens/consumers.tsx';
export * from './screens/event-types.tsx';
export * from './screens/api-keys.tsx';
export * from './screens/users.tsx';
export * from './screens/audit-log.tsx';
export * from './screens/settings.tsx';
