// Placeholder source for a layer whose folder has no .cpp files yet.
