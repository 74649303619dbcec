/*
 * Vault ACL policies in the HCL form `vault policy read` shows: jit-access writes them this way
 * (`vault sync`) so an operator reads them as if written by hand.
 */

export interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly string[];
}

export function renderPolicy(rules: readonly PolicyRule[]): string {
  return rules
    .map(
      (rule) =>
        `path "${rule.path}" {\n  capabilities = [${rule.capabilities.map((c) => `"${c}"`).join(', ')}]\n}\n`,
    )
    .join('\n');
}

/**
 * The rules of a policy in the subset of HCL above (also what most hand-written policies use);
 * undefined when the text is not in that form.
 */
export function parsePolicy(text: string): PolicyRule[] | undefined {
  const rules: PolicyRule[] = [];
  const rest = text
    .replace(/#[^\n]*/g, '')
    .replace(
      /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g,
      (_all, path: string, list: string) => {
        const capabilities = [...list.matchAll(/"([a-z]+)"/g)].map((m) => m[1] ?? '');
        rules.push({ path, capabilities });
        return '';
      },
    );
  return rest.trim() === '' ? rules : undefined;
}
