// Public entry of @gbc/datastore.
export {};
