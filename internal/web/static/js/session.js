// The desk's signed-in user: GET account (401 → the login page, coming
// back to the same view), api() that sends the session's CSRF token with
// every state-changing request, the user box and logout.

import { el, getJSON, t, lang, onLangChange } from './mapcore.js';

export let account = null;
const HASH_KEY = 'vp.deskHash';

// page is where the login returns to: the page's <body data-page>
// (default the desk).
const page = () => document.body.dataset.page || 'desk';

// toLogin leaves for the login page; the page comes back to this view.
export function toLogin() {
  try { sessionStorage.setItem(HASH_KEY, location.hash); } catch (e) { /* storage disabled */ }
  location.href = 'login?next=' + page();
}

// restoreHash puts back the view the user was on before logging in.
export function restoreHash() {
  let h = '';
  try { h = sessionStorage.getItem(HASH_KEY) || ''; sessionStorage.removeItem(HASH_KEY); } catch (e) { /* ignore */ }
  if (h && !location.hash) history.replaceState(null, '', h);
}

// api is getJSON with the CSRF header on POST/PATCH/DELETE; a 401 (no or
// expired session) goes to the login page.
export async function api(url, opts = {}) {
  const o = { ...opts, headers: { ...(opts.headers || {}) } };
  if (!/^(GET|HEAD)$/i.test(o.method || 'GET') && account && account.csrf_token) o.headers['X-CSRF-Token'] = account.csrf_token;
  try {
    return await getJSON(url, o);
  } catch (e) {
    if (e.status === 401) toLogin();
    throw e;
  }
}

export function has(...roles) { return !!account && account.roles.some((r) => roles.includes(r.role)); }

export function roleLabel(code, zh) { return lang === 'en' ? t('role_' + code) : (zh || t('role_' + code)); }

// loadAccount reads who is signed in and fills the user box; it never
// returns for an anonymous visitor (the login page opens).
export async function loadAccount() {
  account = await api('account');
  // Anonymous ({authenticated: false}) or a one-time password: the login
  // page (which asks for the new password).
  if (!account.authenticated || account.must_change_password) { toLogin(); await new Promise(() => {}); }
  const box = document.getElementById('user');
  const render = () => box.replaceChildren(
    el('strong', null, account.display_name || account.username),
    ...account.roles.map((r) => el('span', { class: 'role', dataset: { role: r.role } },
      roleLabel(r.role, r.label) + (r.village ? ` · ${r.village_name || r.village}` : ''))));
  render();
  onLangChange(render);
  box.hidden = false;
  const out = document.getElementById('logout');
  out.hidden = false;
  out.addEventListener('click', async () => {
    try { await api('logout', { method: 'POST' }); } catch (e) { /* the session is gone either way */ }
    location.href = 'login?next=' + page();
  });
  return account;
}
