import { useState } from 'react';
import type { Settings } from '../../shared/api.ts';
import { applyTheme } from '../../shared/theme.ts';
import { Async, ErrorBox, Field, Form, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

export function SettingsScreen({ ctx }: { ctx: Ctx }) {
  const s = useAsync(() => ctx.api.get<Settings>('/v1/settings'), [ctx.api]);
  const [saved, setSaved] = useState(false);
  return (
    <Async state={s} what="Loading settings">
      {(x) => {
        const b = x.branding ?? {};
        const ro = !ctx.canChange;
        return (
          <Form
            label="Settings"
            readOnly={ro}
            submitLabel="Save settings"
            onSubmit={async (f) => {
              if (ro) throw new Error('Your role may not change settings');
              const str = (k: string) => String(f.get(k) ?? '').trim() || null;
              const radius = str('radius');
              const next = await ctx.api.patch<Settings>('/v1/settings', {
                branding: {
                  name: str('name'),
                  logoUrl: str('logoUrl'),
                  primaryColor: str('primaryColor'),
                  backgroundColor: str('backgroundColor'),
                  textColor: str('textColor'),
                  fontFamily: str('fontFamily'),
                  mode: str('mode') ?? 'auto',
                  radius: radius === null ? null : Number(radius),
                },
                embedOrigins: String(f.get('embedOrigins') ?? '')
                  .split(/[\s,]+/)
                  .map((o) => o.trim())
                  .filter(Boolean),
              });
              applyTheme(next.branding);
              setSaved(true);
              s.reload();
            }}
          >
            <fieldset className="field" disabled={ro}>
              <legend>Branding of the portal (and this dashboard)</legend>
              <Field label="Name">{(p) => <input {...p} name="name" defaultValue={b.name ?? ''} />}</Field>
              <Field label="Logo URL" hint="https:// address of an image">
                {(p) => <input {...p} name="logoUrl" type="url" defaultValue={b.logoUrl ?? ''} />}
              </Field>
              <Field label="Primary colour" hint="#rrggbb">
                {(p) => <input {...p} name="primaryColor" defaultValue={b.primaryColor ?? ''} pattern="#[0-9a-fA-F]{6}" />}
              </Field>
              <Field label="Background colour" hint="#rrggbb">
                {(p) => <input {...p} name="backgroundColor" defaultValue={b.backgroundColor ?? ''} pattern="#[0-9a-fA-F]{6}" />}
              </Field>
              <Field label="Text colour" hint="#rrggbb">
                {(p) => <input {...p} name="textColor" defaultValue={b.textColor ?? ''} pattern="#[0-9a-fA-F]{6}" />}
              </Field>
              <Field label="Font family">{(p) => <input {...p} name="fontFamily" defaultValue={b.fontFamily ?? ''} />}</Field>
              <Field label="Mode">
                {(p) => (
                  <select {...p} name="mode" defaultValue={b.mode ?? 'auto'}>
                    <option value="auto">auto (follow the device)</option>
                    <option value="light">light</option>
                    <option value="dark">dark</option>
                  </select>
                )}
              </Field>
              <Field label="Corner radius (px)">{(p) => <input {...p} name="radius" type="number" min={0} max={32} defaultValue={b.radius ?? ''} />}</Field>
            </fieldset>
            <fieldset className="field" disabled={ro}>
              <legend>Embedding</legend>
              <Field label="Allowed embed origins" hint="One per line, e.g. https://app.example.com. The portal refuses to render inside any other site.">
                {(p) => <textarea {...p} name="embedOrigins" defaultValue={(x.embedOrigins ?? []).join('\n')} />}
              </Field>
            </fieldset>
            {saved && <p role="status">Saved.</p>}
            {ro && <p className="muted">Your role can read the settings but not change them.</p>}
          </Form>
        );
      }}
    </Async>
  );
}

export { ErrorBox };
