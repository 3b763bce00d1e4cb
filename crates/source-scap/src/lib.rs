//! Capture files in the scap format (pcapng-style blocks): reader and writer.
//! Stage: **source**. Yields [`peregrine_event::SourcedEvent`]s and the tables
//! (process, fd, user lists) the file carries.
