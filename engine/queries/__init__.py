"""The read side: who sees and acts on what, and the task lists (`access`), reading a case with its reading
logged (`cases`), its record stage by stage (`records`), and the documents printed from it (`documents`,
`printing`)."""
