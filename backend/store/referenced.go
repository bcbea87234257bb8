package store

// Referenced lists the ids of the files and thumbnails that kept messages
// use (a tombstone uses none), for the sweep of files no message needs.
func (s *Store) Referenced() (map[string]bool, error) {
	rows, err := s.read.Query(`SELECT json_extract(a.value, '$.id'), coalesce(json_extract(a.value, '$.thumb'), '')
		FROM messages, json_each(messages.body, '$.attachments') AS a
		WHERE messages.deleted = 0 AND json_type(messages.body, '$.attachments') = 'array'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id, thumb string
		if err := rows.Scan(&id, &thumb); err != nil {
			return nil, err
		}
		out[id] = true
		if thumb != "" {
			out[thumb] = true
		}
	}
	return out, rows.Err()
}
