// Public entry of @gbc/cli.
export {};
