/* global document, window, location, history, URLSearchParams */
// The admin console's shell (src/http/pages/console.ts renders the page; docs/admin-console.md).
//
// Signs the admin in (api.js), asks the server who they are and what the console may offer them
// (GET /{tenantId}/admin/session), builds the navigation from the screen list
// (screens/index.js) and routes by the location hash: `#/users`, `#/users/{id}`,
// `#/logs/sign-ins?user=…`, … Each screen is one ES module exporting { path, title, nav?, render(ctx) };
// render fills ctx.root and may set a more precise title with ctx.setTitle.

import { createApi } from './api.js';
import * as ui from './ui.js';
import { screens } from './screens/index.js';

const { h } = ui;
const APP_NAME = 'Gatehouse admin console';
const DEFAULT_ROUTE = '/users';

const body = document.getElementById('console');
if (body) start(body);

/** '/users/:id' → a matcher returning the params, or null. */
function compile(path) {
  const names = [];
  const re = new RegExp(`^${path.replace(/\/:([A-Za-z]+)/g, (_m, n) => { names.push(n); return '/([^/]+)'; })}$`);
  return (p) => {
    const m = re.exec(p);
    if (!m) return null;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
  };
}

function start(body) {
  const cfg = {
    tenantId: body.dataset.tenantId, tenantName: body.dataset.tenantName, issuer: body.dataset.issuer,
    clientId: body.dataset.clientId, resource: body.dataset.resource, redirectUri: body.dataset.redirectUri,
  };
  const api = createApi(cfg);
  const content = document.getElementById('content');
  const nav = document.getElementById('nav');
  const navList = document.getElementById('nav-list');
  const who = document.getElementById('who');
  const signOutButton = document.getElementById('sign-out');
  const routes = screens.map((s) => ({ screen: s, match: compile(s.path) }));
  let session = null;
  let generation = 0;

  // The skip link moves focus to the content without touching the hash the router reads.
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    content.focus();
  });

  const currentRoute = () => {
    const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : DEFAULT_ROUTE;
    const q = raw.indexOf('?');
    return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
  };

  const signInAgain = () => {
    ui.status('Opening the sign-in page…');
    api.signIn(location.hash).catch((err) => ui.alert(err.message));
  };

  function setTitle(text) {
    document.title = `${text} – ${APP_NAME}`;
    const h1 = content.querySelector('h1');
    if (h1) h1.textContent = text;
  }

  function showSignedOut(message, again = false) {
    session = null;
    nav.hidden = true;
    who.hidden = true;
    signOutButton.hidden = true;
    document.title = `Sign in – ${APP_NAME}`;
    const button = h('button', { type: 'button', id: 'sign-in', onclick: () => ui.act(button, 'Opening the sign-in page…', () => api.signIn(location.hash)) }, again ? 'Sign in again' : 'Sign in');
    content.replaceChildren(
      h('h1', { tabindex: '-1' }, 'Sign in to the admin console'),
      message ? h('p', { class: 'problem', role: 'alert' }, message) : null,
      h('p', {}, `The console manages users, their sign-in methods, Temporary Access Passes, recovery cases and the sign-in and audit logs of ${cfg.tenantName}. You sign in on your organisation's sign-in page; Conditional Access applies to the console like to any app.`),
      h('div', { class: 'actions' }, button),
    );
  }

  function buildNav() {
    const items = screens.filter((s) => s.nav).sort((a, b) => (a.nav.order ?? 100) - (b.nav.order ?? 100));
    navList.replaceChildren(...items.map((s) => h('li', {}, h('a', { href: `#${s.nav.href || s.path}`, 'data-section': s.nav.section || s.path }, s.nav.label || s.title))));
    nav.hidden = false;
  }

  function markNav(path) {
    for (const a of navList.querySelectorAll('a')) {
      const section = a.dataset.section;
      if (path === section || path.startsWith(`${section}/`)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  /** `keep`: a refresh after an action keeps its announcement in the live regions. */
  async function route(keep = false) {
    if (!session) return;
    const my = ++generation;
    const { path, query } = currentRoute();
    if (!keep) {
      ui.alert('');
      ui.status('');
    }
    let found = null;
    for (const r of routes) {
      const params = r.match(path);
      if (params) { found = { screen: r.screen, params }; break; }
    }
    markNav(path);
    const h1 = h('h1', { tabindex: '-1' }, found ? found.screen.title : 'Page not found');
    const root = h('div', { class: 'screen' });
    content.replaceChildren(h1, root);
    document.title = `${found ? found.screen.title : 'Page not found'} – ${APP_NAME}`;
    h1.focus();
    if (!found) {
      root.append(ui.empty(`There is no screen at ${path}.`, h('a', { href: `#${DEFAULT_ROUTE}`, class: 'button' }, 'Go to Users')));
      return;
    }
    const ctx = {
      api, ui, session, can: session.can, params: found.params, query, root, cfg,
      setTitle: (t) => { if (my === generation) setTitle(t); },
      /** Still the screen on display (a slow answer must not paint over the next screen). */
      current: () => my === generation,
      navigate: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
      refresh: () => route(true),
      signInAgain,
    };
    try {
      await found.screen.render(ctx);
    } catch (err) {
      if (my !== generation) return;
      root.append(ui.problem(err, signInAgain));
    }
  }

  async function begin() {
    const params = new URLSearchParams(location.search);
    if (params.has('code') || params.has('error')) {
      try {
        ui.status('Signing you in…');
        const returnTo = await api.redeem(params);
        if (returnTo && returnTo.startsWith('#/')) history.replaceState(null, '', `${location.pathname}${returnTo}`);
        ui.status('');
      } catch (err) {
        ui.status('');
        showSignedOut(err.message);
        return;
      }
    }
    if (!api.signedIn()) {
      const ended = api.expired();
      api.signOut();
      showSignedOut(ended ? 'Your sign-in to the admin console has ended (it lasts 15 minutes).' : '', ended);
      return;
    }
    try {
      session = await api.session();
    } catch (err) {
      api.signOut();
      showSignedOut(err.message, err.status === 401);
      return;
    }
    who.textContent = `Signed in as ${session.displayName} (${session.userPrincipalName})${session.roles.length ? ` · ${session.roles.map((r) => r.displayName).join(', ')}` : ' · no admin role'}`;
    who.hidden = false;
    signOutButton.hidden = false;
    buildNav();
    await route();
  }

  signOutButton.addEventListener('click', () => {
    api.signOut();
    history.replaceState(null, '', location.pathname);
    showSignedOut('');
    ui.status('You are signed out of the admin console.');
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) route();
  });
  begin();
}
