import { describe, expect, it } from 'vitest';
import { dictionaries, LOCALES, translate } from '../i18n';
import { formatBytes } from '../lib/attachments';
import { MAX_ATTACHMENTS } from '../lib/protocol';
import { UPLOAD_ERRORS } from '../lib/uploadtypes';
import { errorText, fileErrorText, locale } from './i18n';

describe('fileErrorText', () => {
  it('has the words of files.error for exactly the codes of UPLOAD_ERRORS, in every language', () => {
    for (const l of LOCALES) {
      const keys = Object.keys(dictionaries[l]).filter((k) => k.startsWith('files.error.'));
      expect(keys.map((k) => k.slice('files.error.'.length)).sort(), l).toEqual([...UPLOAD_ERRORS].sort());
    }
  });

  it('puts the file, the host’s largest file and the most files a message carries into them', () => {
    for (const l of LOCALES) {
      expect(fileErrorText('file_too_large', { name: 'big.mov', maxFile: 5 << 20 }, l)).toBe(translate(l, 'files.error.file_too_large', { name: 'big.mov', max: formatBytes(5 << 20, l) }));
      expect(fileErrorText('empty_file', { name: 'a.txt' }, l)).toContain('a.txt');
      expect(fileErrorText('too_many_files', {}, l)).toBe(translate(l, 'files.error.too_many_files', { n: MAX_ATTACHMENTS }));
    }
  });

  it('gives any other code errorText’s words, with its ref', () => {
    locale.set('en');
    expect(fileErrorText('no_such_room', { ref: 'general' })).toBe(errorText('no_such_room', 'general'));
    expect(fileErrorText('no_such_room', { ref: 'general' })).toContain('general');
    expect(fileErrorText('no_such_code')).toBe(errorText('no_such_code'));
    expect(fileErrorText('no_such_room', { ref: 'geral' }, 'pt-BR')).toBe(translate('pt-BR', 'error.no_such_room', { ref: 'geral' }));
  });

  it('speaks the current language unless told one', () => {
    locale.set('pt-BR');
    expect(fileErrorText('files_full')).toBe(translate('pt-BR', 'files.error.files_full'));
    locale.set('en');
    expect(fileErrorText('files_full')).toBe(translate('en', 'files.error.files_full'));
  });
});
