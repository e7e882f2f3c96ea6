// Public entry of @gbc/agent.
export {};
