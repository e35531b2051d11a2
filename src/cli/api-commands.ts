// `tramline consumers|endpoints|messages|event-types …` and `tramline profiles …`: the CLI as an API client
// of a running gateway, built on the SDK (sdk/src). Where it sends the key: the `--profile` given, else
// TRAMLINE_API_KEY with TRAMLINE_URL (default http://localhost:8080), else TRAMLINE_PROFILE or the default
// profile of ~/.config/tramline/profiles.json (written 0600 by `tramline profiles add`).
// Before any key leaves this process, the target must answer GET /.well-known/tramline with
// service "tramline": a mistyped or hostile URL never sees the credential.
import { Option, type Command } from 'commander';
import type { MessageListParams } from '../../sdk/src/types.ts';
import { act, conn, csv, jsonArg, keyValue, pageParams, paging } from './api-args.ts';
import { COLUMNS, type Row, field, print, show, showList, table } from './api-output.ts';
import { checkGateway, connect, mask, profilesPath, readProfiles, writeProfiles } from './api-target.ts';
import { Tramline, TramlineError } from '../../sdk/src/index.ts';

export { act, conn, csv } from './api-args.ts';
export { connect } from './api-target.ts';

type MessageStatus = NonNullable<MessageListParams['status']>;
/** The statuses `messages list --status` takes (the SDK's type keeps the list true to the API). */
const MESSAGE_STATUSES = ['pending', 'succeeded', 'failed', 'none'] satisfies MessageStatus[];

export function registerApiCommands(program: Command): void {
  // --- profiles ---
  const profiles = program.command('profiles').description(`Gateways and API keys the API commands use (${profilesPath()})`);
  profiles
    .command('add')
    .argument('<name>', 'a name for this gateway and key')
    .requiredOption('--url <url>', 'the gateway’s base URL')
    .option('--api-key <key>', 'the API key (default: TRAMLINE_API_KEY)')
    .option('--default', 'make it the default profile')
    .description('Check that the URL is a Tramline gateway and that it accepts the key, then save both (file mode 0600)')
    .action(
      act(async (o, name: string) => {
        const apiKey = (o['apiKey'] as string | undefined) ?? process.env.TRAMLINE_API_KEY;
        if (!apiKey) throw new Error('Give the key with --api-key or TRAMLINE_API_KEY');
        const url = o.url!.replace(/\/+$/, '');
        await checkGateway(url);
        // The key must be one this gateway knows; a key without the read scope is still a key.
        try {
          await new Tramline({ apiKey, baseUrl: url, maxRetries: 1 }).consumers.list({ limit: 1 }).page();
        } catch (err) {
          if (!(err instanceof TramlineError) || err.status !== 403) throw err;
        }
        const file = readProfiles();
        file.profiles[name] = { url, apiKey };
        if (o['default'] || !file.default) file.default = name;
        writeProfiles(file);
        print(
          `Saved profile "${name}" (${url}, key ${mask(apiKey)})${file.default === name ? ' as the default' : ''} in ${profilesPath()}`,
        );
      }),
    );
  profiles
    .command('list')
    .description('List profiles (keys masked)')
    .option('--json', 'print JSON')
    .action(
      act(async (o) => {
        const file = readProfiles();
        const rows = Object.entries(file.profiles).map(([name, p]) => ({
          name,
          url: p.url,
          key: mask(p.apiKey),
          default: file.default === name,
        }));
        print(
          o.json
            ? JSON.stringify(rows, null, 2)
            : table(rows, [
                ['NAME', field('name')],
                ['URL', field('url')],
                ['KEY', field('key')],
                ['DEFAULT', (r) => (r.default ? '*' : '')],
              ]),
        );
      }),
    );
  profiles
    .command('remove')
    .argument('<name>')
    .description('Forget a profile')
    .action(
      act(async (_o, name: string) => {
        const file = readProfiles();
        if (!file.profiles[name]) throw new Error(`No profile "${name}"`);
        delete file.profiles[name];
        if (file.default === name) delete file.default;
        writeProfiles(file);
        print(`Removed profile "${name}"`);
      }),
    );

  // --- consumers ---
  const consumers = program.command('consumers').description('Your customers, on a running gateway');
  paging(consumers.command('list').description('List consumers')).action(
    act(async (o) => showList(o, (await connect(o)).consumers.list(pageParams(o)), COLUMNS.consumer!)),
  );
  conn(consumers.command('create').argument('<name>').description('Create a consumer'))
    .option('--uid <uid>', 'your own id for it')
    .option('--metadata <key=value>', 'metadata (repeatable)', keyValue)
    .action(
      act(async (o, name: string) => {
        const c = await (await connect(o)).consumers.create({
          name,
          ...(o['uid'] ? { uid: o['uid'] as string } : {}),
          ...(o['metadata'] ? { metadata: o['metadata'] as Record<string, string> } : {}),
        });
        show(o, c);
      }),
    );
  conn(consumers.command('show').argument('<consumer>', 'id or uid').description('Show a consumer')).action(
    act(async (o, consumer: string) => show(o, await (await connect(o)).consumers.get(consumer))),
  );

  // --- endpoints ---
  const endpoints = program.command('endpoints').description('Where a consumer’s webhooks go');
  paging(endpoints.command('list').argument('<consumer>', 'id or uid').description('List a consumer’s endpoints')).action(
    act(async (o, consumer: string) => showList(o, (await connect(o)).endpoints.list(consumer, pageParams(o)), COLUMNS.endpoint!)),
  );
  conn(
    endpoints.command('create').argument('<consumer>', 'id or uid').argument('<url>', 'where to deliver').description('Create an endpoint'),
  )
    .option('--event-types <types>', 'only these event types (comma-separated)', csv)
    .option('--channels <channels>', 'only these channels (comma-separated)', csv)
    .option('--description <text>')
    .action(
      act(async (o, consumer: string, url: string) => {
        const e = await (await connect(o)).endpoints.create(consumer, {
          url,
          ...(o['eventTypes'] ? { eventTypes: o['eventTypes'] as string[] } : {}),
          ...(o['channels'] ? { channels: o['channels'] as string[] } : {}),
          ...(o['description'] ? { description: o['description'] as string } : {}),
        });
        show(o, e);
      }),
    );
  conn(endpoints.command('show').argument('<consumer>', 'id or uid').argument('<endpoint>').description('Show an endpoint')).action(
    act(async (o, consumer: string, endpoint: string) => show(o, await (await connect(o)).endpoints.get(consumer, endpoint))),
  );
  conn(
    endpoints
      .command('secret')
      .argument('<consumer>', 'id or uid')
      .argument('<endpoint>')
      .description('Print the endpoint’s signing secret (whsec_…)'),
  ).action(
    act(async (o, consumer: string, endpoint: string) => {
      const s = await (await connect(o)).endpoints.getSecret(consumer, endpoint);
      print(o.json ? JSON.stringify(s) : s.secret);
    }),
  );
  paging(
    endpoints
      .command('attempts')
      .argument('<consumer>', 'id or uid')
      .argument('<endpoint>')
      .description('Delivery attempts to an endpoint, newest first'),
  ).action(
    act(async (o, consumer: string, endpoint: string) =>
      showList(o, (await connect(o)).endpoints.attempts(consumer, endpoint, pageParams(o)), COLUMNS.attempt!),
    ),
  );

  // --- messages ---
  const messages = program.command('messages').description('Publish, and read the message log');
  paging(messages.command('list').argument('<consumer>', 'id or uid').description('List a consumer’s messages, newest first'))
    .option('--event-type <type>', 'only this event type')
    .addOption(new Option('--status <status>', 'only messages with this status (from their deliveries)').choices(MESSAGE_STATUSES))
    .action(
      act(async (o, consumer: string) => {
        const list = (await connect(o)).messages.list(consumer, {
          ...pageParams(o),
          ...(o['eventType'] ? { eventType: o['eventType'] as string } : {}),
          ...(o['status'] ? { status: o['status'] as MessageStatus } : {}),
        });
        await showList(o, list, COLUMNS.message!);
      }),
    );
  conn(
    messages
      .command('publish')
      .argument('<consumer>', 'id or uid')
      .argument('<event-type>')
      .description('Publish a message (answers once it is committed)'),
  )
    .option('--payload <json>', 'the payload (JSON)', jsonArg, {})
    .option('--event-id <id>', 'your id for this event: a repeat publishes nothing new')
    .action(
      act(async (o, consumer: string, eventType: string) => {
        const m = await (await connect(o)).messages.publish(consumer, {
          eventType,
          payload: o['payload'],
          ...(o['eventId'] ? { eventId: o['eventId'] as string } : {}),
        });
        show(o, m);
      }),
    );
  conn(
    messages
      .command('show')
      .argument('<consumer>', 'id or uid')
      .argument('<message>', 'id or eventId')
      .description('Show a message and the state of its deliveries'),
  ).action(
    act(async (o, consumer: string, message: string) => {
      const m = await (await connect(o)).messages.get(consumer, message);
      show(o, m, () => print(`\n${table(m.deliveries as Row[], COLUMNS.delivery!)}`));
    }),
  );
  paging(
    messages
      .command('attempts')
      .argument('<consumer>', 'id or uid')
      .argument('<message>', 'id or eventId')
      .description('A message’s delivery attempts'),
  ).action(
    act(async (o, consumer: string, message: string) =>
      showList(o, (await connect(o)).messages.attempts(consumer, message, pageParams(o)), COLUMNS.attempt!),
    ),
  );
  conn(
    messages
      .command('resend')
      .argument('<consumer>', 'id or uid')
      .argument('<message>', 'id or eventId')
      .argument('<endpoint>')
      .description('Send a message to an endpoint again, now'),
  ).action(
    act(async (o, consumer: string, message: string, endpoint: string) => {
      const d = await (await connect(o)).messages.resend(consumer, message, endpoint);
      if (o.json) print(JSON.stringify(d, null, 2));
      else print(table([d as Row], COLUMNS.delivery!));
    }),
  );

  // --- event types ---
  const eventTypes = program.command('event-types').description('The catalog of event types');
  paging(eventTypes.command('list').description('List event types'))
    .option('--include-archived', 'archived ones too')
    .action(
      act(async (o) =>
        showList(
          o,
          (await connect(o)).eventTypes.list({ ...pageParams(o), ...(o['includeArchived'] ? { includeArchived: true } : {}) }),
          COLUMNS.eventType!,
        ),
      ),
    );
  conn(eventTypes.command('create').argument('<name>', 'e.g. invoice.paid').description('Register an event type'))
    .option('--description <text>')
    .option('--schema <json>', 'a JSON Schema for its payloads', jsonArg)
    .action(
      act(async (o, name: string) => {
        const et = await (await connect(o)).eventTypes.create({
          name,
          ...(o['description'] ? { description: o['description'] as string } : {}),
          ...(o['schema'] ? { schema: o['schema'] as Record<string, unknown> } : {}),
        });
        show(o, et);
      }),
    );
  conn(eventTypes.command('show').argument('<name>').description('Show an event type')).action(
    act(async (o, name: string) => show(o, await (await connect(o)).eventTypes.get(name))),
  );
  conn(eventTypes.command('archive').argument('<name>').description('Archive an event type')).action(
    act(async (o, name: string) => show(o, await (await connect(o)).eventTypes.archive(name))),
  );
  conn(eventTypes.command('unarchive').argument('<name>').description('Unarchive an event type')).action(
    act(async (o, name: string) => show(o, await (await connect(o)).eventTypes.unarchive(name))),
  );
}
