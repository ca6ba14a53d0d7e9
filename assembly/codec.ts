// placeholder until the codec lands (being written now)
