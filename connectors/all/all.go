// Package all registers every connector type: the binary imports it for its side effects.
package all

import (
	_ "github.com/aiskao/aiskao/connectors/dossier" // registers "dossier"
	_ "github.com/aiskao/aiskao/connectors/esoed"   // registers "esoed"
	_ "github.com/aiskao/aiskao/connectors/file"    // registers "file"
	_ "github.com/aiskao/aiskao/connectors/http"    // registers "http"
	_ "github.com/aiskao/aiskao/connectors/mail"    // registers "mail"
	_ "github.com/aiskao/aiskao/connectors/regix"   // registers "regix"
	_ "github.com/aiskao/aiskao/connectors/sftp"    // registers "sftp"
	_ "github.com/aiskao/aiskao/connectors/sql"     // registers "sql"
)
