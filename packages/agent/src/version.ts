/** The agent's version, sent in hello and in the inventory. Kept equal to package.json (a test checks). */
export const AGENT_VERSION = '0.1.0';
