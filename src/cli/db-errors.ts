/**
 * Database errors a first installation meets, rewritten to say what to do. Migrations create two
 * cluster-wide roles, tramline_app (tenant requests, under row-level security) and tramline_system
 * (claims and key look-ups); a database owner without CREATEROLE cannot, so an administrator creates
 * them once by hand. See docs/production.md.
 */
export function explainDatabaseError(err: unknown, databaseUrl: string | undefined): unknown {
  const e = err as { code?: string; message?: string };
  if (e?.code === '42501' && /create role|grant role|admin option/i.test(e.message ?? '')) {
    let user = 'the_tramline_user';
    try {
      if (databaseUrl) user = decodeURIComponent(new URL(databaseUrl).username) || user;
    } catch {
      /* keep the placeholder */
    }
    const ident = /^[a-z_][a-z0-9_]*$/.test(user) ? user : `"${user.replaceAll('"', '""')}"`;
    return new Error(
      `${e.message}.\n` +
        `Migrations create two cluster-wide roles, tramline_app and tramline_system, and the database user ${ident} may not create roles (it lacks CREATEROLE).\n` +
        'Ask an administrator to run once, as a superuser (or a role with CREATEROLE), then run tramline migrate again:\n\n' +
        '  CREATE ROLE tramline_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;\n' +
        '  CREATE ROLE tramline_system NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;\n' +
        `  GRANT tramline_app, tramline_system TO ${ident};\n\n` +
        'See docs/production.md#database-roles-and-privileges.',
    );
  }
  return err;
}
