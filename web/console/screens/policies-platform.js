// Platform rules (PLT-1..PLT-6): requirements that come from Gatehouse itself, each explained,
// with the tenant's settings at /policies/platformRulesPolicy (PLT-3 step-up, PLT-2 windows,
// PLT-4 registration interrupt). PLT-3 `off` or PLT-4 disabled can lock administrators out, so a
// save goes through the WIF-3 guard and its refusal is shown with the reason.

import { NEEDS, readOnly, refusal, select, subNav } from '../policyUi.js';

const RULES = [
  ['PLT-1', 'Security-info gate', 'A user who holds a usable MFA-capable method needs MFA in the session to open or change security info. A user with no usable method may enter after a first factor (for example a Temporary Access Pass).'],
  ['PLT-2', 'Freshness', 'Adding or changing a passkey needs a strong authentication within the last few minutes; a security-info session lasts a limited time.'],
  ['PLT-3', 'Existing-method step-up', 'When the user holds a usable phishing-resistant method (a passkey), a session whose only MFA is a Temporary Access Pass can’t open security info: the user must first use that passkey. With “off”, the pass satisfies PLT-1 as in Entra. Methods suspended by a recovery case don’t count.'],
  ['PLT-4', 'Registration interrupt', 'When no method the user holds meets a required strength, and the user signed in with a pass or holds no method, the sign-in asks them to register a passkey if the client can, then to use it once. If the client can’t, the sign-in fails with a reason naming what to change.'],
  ['PLT-5', 'Registration campaign', 'After a successful MFA sign-in, a targeted user without a passkey is nudged to register one. Configured in the methods policy (Methods policy tab).'],
  ['PLT-6', 'Sign-in frequency and revocation', 'A policy’s sign-in frequency discounts methods older than the frequency (70043); revoking a user’s sessions discounts every method performed before it (50173).'],
];

export default {
  path: '/policies/platform',
  title: 'Platform rules',
  async render(ctx) {
    const { ui, api, root, can } = ctx;
    const { h } = ui;
    root.append(subNav('/policies/platform'));
    if (!can.readPolicies) {
      root.append(ui.notOffered('Reading policies needs an administrator role that can read policies.'));
      return;
    }
    const write = can.writeConditionalAccess || can.writeMethodsPolicy;
    root.append(h('p', {}, 'These requirements come from Gatehouse, not from a Conditional Access policy. In the sign-in log they appear under authenticationRequirementPolicies as “gatehousePlatformRule”, and What-If shows each with its sentence.'));
    const rules = ui.section('The rules');
    rules.append(h('dl', { class: 'facts', id: 'platform-rules' }, RULES.map(([id, name, text]) => [h('dt', {}, `${id} ${name}`), h('dd', {}, text)])));
    root.append(rules);
    if (!write) root.append(readOnly(ui, NEEDS.platform));
    const sec = ui.section('Settings', { id: 'platform-settings' });
    root.append(sec);
    const region = h('div', {});
    sec.append(region);
    const stop = ui.loading(region, 'Loading the settings…');
    let s;
    try {
      s = await api.graph('GET', '/policies/platformRulesPolicy');
    } catch (err) {
      stop();
      region.replaceChildren(refusal(ui, err, ctx.signInAgain));
      return;
    }
    stop();
    if (!ctx.current()) return;
    const dis = !write;
    let stepUp = s.existingMethodStepUp;
    let interrupt = s.registrationInterrupt;
    const fresh = ui.field({ label: 'PLT-2: freshness for passkey changes (minutes)', name: 'freshness', type: 'number', value: String(s.securityInfoFreshnessInMinutes), min: 1, max: 60, hint: '1 to 60; default 5.' });
    const sessionLen = ui.field({ label: 'PLT-2: security-info session (minutes)', name: 'sessionLength', type: 'number', value: String(s.securityInfoSessionInMinutes), min: 1, max: 240, hint: '1 to 240; default 15. A user bootstrapping with a one-time pass gets this window for registering too.' });
    fresh.input.disabled = dis;
    sessionLen.input.disabled = dis;
    region.replaceChildren(
      select({ label: 'PLT-3: existing-method step-up', name: 'existingMethodStepUp', value: stepUp, disabled: dis, hint: 'Default: phishing-resistant.', options: [{ value: 'phishingResistant', label: 'Phishing-resistant: a passkey holder must use the passkey, not only a pass' }, { value: 'off', label: 'Off: a pass satisfies the security-info gate (as in Entra)' }], onChange: (v) => { stepUp = v; } }),
      fresh.wrap, sessionLen.wrap,
      select({ label: 'PLT-4: registration interrupt', name: 'registrationInterrupt', value: interrupt, disabled: dis, hint: 'Default: enabled.', options: [{ value: 'enabled', label: 'Enabled: ask to register a passkey when no held method meets a strength' }, { value: 'disabled', label: 'Disabled' }], onChange: (v) => { interrupt = v; } }),
      s.modifiedDateTime ? h('p', { class: 'muted' }, `Last changed ${ui.when(s.modifiedDateTime)}.`) : h('p', { class: 'muted' }, 'Never changed: the defaults apply.'),
    );
    if (!write) return;
    const result = h('div', {});
    const save = h('button', { type: 'button', id: 'save-platform', onclick: async () => {
      save.disabled = true;
      ui.status('Saving the platform rules…');
      result.replaceChildren();
      try {
        await api.graph('PATCH', '/policies/platformRulesPolicy', {
          existingMethodStepUp: stepUp, registrationInterrupt: interrupt,
          securityInfoFreshnessInMinutes: Number(fresh.input.value), securityInfoSessionInMinutes: Number(sessionLen.input.value),
        });
        ui.status('Saved the platform rules.');
        ctx.refresh();
      } catch (err) {
        ui.status('');
        result.replaceChildren(refusal(ui, err, ctx.signInAgain));
      } finally {
        if (save.isConnected) save.disabled = false;
      }
    } }, 'Save platform rules');
    sec.append(h('div', { class: 'actions' }, save), result);
  },
};
