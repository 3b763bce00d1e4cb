//! The Falco rules language front end: filter lexer and parser, the field
//! registry, and the rules-file loader with validation. Usable alone (no
//! kernel, no events).
