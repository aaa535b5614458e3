// The admin console's screens, in navigation order. A screen is one ES module exporting
// { path, title, nav?: { label, order, href?, section? }, render(ctx) } (see main.js for ctx).
// To add a screen: write screens/<name>.js and add one import and one entry here.

import users from './users.js';
import user from './user.js';
import groups from './groups.js';
import signIns from './signIns.js';
import signIn from './signIn.js';
import audits from './audits.js';
import recovery from './recovery.js';
import policiesCa from './policies-ca.js';
import policiesCaEdit from './policies-ca-edit.js';
import policiesMethods from './policies-methods.js';
import policiesStrengths from './policies-strengths.js';
import policiesLocations from './policies-locations.js';
import policiesPlatform from './policies-platform.js';
import whatIf from './whatif.js';
import policyImport from './import.js';

export const screens = [
  users,
  user,
  groups,
  signIns,
  signIn,
  audits,
  recovery,
  policiesCa,
  policiesCaEdit,
  policiesMethods,
  policiesStrengths,
  policiesLocations,
  policiesPlatform,
  whatIf,
  policyImport,
];
