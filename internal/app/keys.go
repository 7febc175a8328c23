package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"suifang/internal/chain"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// loadKeys builds the patient-data keyring, the blind-index key and the
// chain key. Production sets them (--data-keys, --index-key, --chain-key,
// from a secret store). A SQLite deployment without data and index keys
// gets a key file beside the database, created once with mode 0600, so the
// README's one command works; PostgreSQL deployments must configure them,
// because several instances have to share them. Without --chain-key the
// chain key is derived from the index key (under a label of its own): a
// secret outside the database either way, and the same whichever way the
// index key was given.
func loadKeys(cfg Config, log *slog.Logger) (*pii.Keyring, *pii.Indexer, *chain.Key, error) {
	dataSpec, indexSpec := cfg.DataKeys, cfg.IndexKey
	if dataSpec == "" || indexSpec == "" {
		if store.IsPostgresURL(cfg.DB) {
			return nil, nil, nil, errors.New("app: PostgreSQL needs --data-keys and --index-key (generate them with 'suifang keys generate')")
		}
		path := cfg.DB + ".keys"
		d, x, err := readKeyFile(path)
		if errors.Is(err, os.ErrNotExist) {
			if d, x, err = writeKeyFile(path); err != nil {
				return nil, nil, nil, err
			}
			log.Warn("generated patient-data encryption keys; back this file up with the database, or patient data cannot be read", "file", path)
		} else if err != nil {
			return nil, nil, nil, err
		}
		if dataSpec == "" {
			dataSpec = d
		}
		if indexSpec == "" {
			indexSpec = x
		}
	}
	keys, err := pii.ParseKeyring(dataSpec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: data keys: %w", err)
	}
	index, err := pii.ParseIndexSecret(indexSpec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: index key: %w", err)
	}
	var ck *chain.Key
	if cfg.ChainKey != "" {
		ck, err = chain.ParseKey(cfg.ChainKey)
	} else {
		var secret []byte
		if secret, err = base64.StdEncoding.DecodeString(strings.TrimSpace(indexSpec)); err == nil {
			ck, err = chain.DeriveKey(secret)
		}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: chain key: %w", err)
	}
	return keys, index, ck, nil
}

func readKeyFile(path string) (data, index string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		switch {
		case !ok:
		case k == "data_keys":
			data = v
		case k == "index_key":
			index = v
		}
	}
	if data == "" || index == "" {
		return "", "", fmt.Errorf("app: key file %s lacks data_keys or index_key", path)
	}
	return data, index, nil
}

// NewIndexKey returns a random 32-byte secret in its config form (the
// blind-index key, the chain key).
func NewIndexKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("app: random: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func writeKeyFile(path string) (data, index string, err error) {
	if data, err = pii.GenerateKeySpec("k1"); err != nil {
		return "", "", err
	}
	if index, err = NewIndexKey(); err != nil {
		return "", "", err
	}
	body := "# Suifang patient-data keys. Keep secret; back up with the database.\ndata_keys=" + data + "\nindex_key=" + index + "\n"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("app: create key file: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return "", "", fmt.Errorf("app: write key file: %w", err)
	}
	return data, index, f.Close()
}
