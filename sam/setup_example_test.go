package sam_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// Setup against the sandbox: its simulated admin approves the device code
// and, in the "browser" below, follows the consent sign-in back to the
// loopback listener.
func ExampleSetup() {
	s := testserver.New()
	defer s.Close()
	dir, err := os.MkdirTemp("", "samkit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	res, err := sam.Setup(context.Background(), sam.SetupOptions{
		BootstrapClientID: s.BootstrapClientID,
		AdminSignIn:       sam.DeviceCodeSignIn{Prompt: func(string) {}},
		Consent: sam.LoopbackConsent{OpenBrowser: func(url string) error {
			resp, err := s.Client().Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		}},
		Store: sam.NewFileStore(filepath.Join(dir, "credentials.json")),
		Progress: func(e sam.StepEvent) {
			if e.Status == sam.StepDone || e.Status == sam.StepSkipped {
				fmt.Println(e.Step, e.Status)
			}
		},
	}, sam.WithCloud(s.Cloud()), sam.WithHTTPClient(s.Client()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", res.Created, "refresh token:", !res.Credentials.RefreshToken.IsZero())
	// Output:
	// sign-in done
	// preflight done
	// app done
	// service-principals done
	// secret done
	// admin-consent done
	// consent done
	// exchange skipped
	// verify done
	// save done
	// created: true refresh token: true
}

// On a headless box the admin pastes the address the browser ended at.
func ExampleParseRedirect() {
	code, err := sam.ParseRedirect("http://localhost/?code=0.AXk-code&state=a1b2c3&session_state=x", "a1b2c3")
	fmt.Println(code, err)
	_, err = sam.ParseRedirect("http://localhost/?code=0.AXk-code&state=other", "a1b2c3")
	fmt.Println(err)
	// Output:
	// 0.AXk-code <nil>
	// sam: the sign-in response does not belong to this sign-in (state mismatch)
}
