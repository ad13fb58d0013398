package sam

import (
	"context"
	"time"
)

// RefreshTokenObtainedAt returns when the SAM refresh token in the file
// was obtained, which starts its 90-day idle lifetime; the zero time when
// the file does not record it (written before samkit recorded it).
func (s *FileStore) RefreshTokenObtainedAt(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	doc, err := s.read()
	if err != nil {
		return time.Time{}, err
	}
	return doc.RefreshTokenObtainedAt, nil
}
