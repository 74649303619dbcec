/** A secret given directly, or read once from Secrets Manager and kept for the container's life. */
export async function secretValue(direct: string | undefined, arn: string | undefined): Promise<string> {
  if (direct !== undefined) return direct;
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(arn ?? '', { maxAge: Number.MAX_SAFE_INTEGER });
  if (typeof value !== 'string' || value === '')
    throw new Error(`the secret ${arn} is empty or not a string`);
  return value;
}
