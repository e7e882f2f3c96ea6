// Public entry of @gbc/coordinator-server.
export {};
