// placeholder replaced by the demo seeder
export async function seedDemo(_rt: unknown): Promise<{ created: boolean; counts: Record<string, number> }> {
  return { created: false, counts: {} };
}
export async function issueDemoKey(_rt: unknown): Promise<{ key: string }> {
  return { key: '' };
}
