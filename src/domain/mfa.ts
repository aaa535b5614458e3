/**
 * Whether the methods performed so far make multifactor authentication: the combinations of the
 * built-in MFA strength (STR-1) that use methods this server implements (MTH-1).
 */
const MFA_COMBINATIONS: readonly (readonly string[])[] = [
  ['fido2'], ['temporaryAccessPassOneTime'], ['temporaryAccessPassMultiUse'], ['password', 'softwareOath'],
];

export function isMultifactor(performedModes: readonly string[]): boolean {
  return MFA_COMBINATIONS.some((combo) => combo.every((m) => performedModes.includes(m)));
}
