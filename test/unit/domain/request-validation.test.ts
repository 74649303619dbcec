import { describe, expect, it } from 'vitest';
import { validateAccessRequest } from '../../../shared/domain/request-validation.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();

describe('validateAccessRequest', () => {
  it('strips control characters and folds spaces in the justification', () => {
    const result = validateAccessRequest(catalog, {
      database: 'orders',
      level: 'read',
      duration: '1h',
      justification: '  INC-1\u0000234\t\tlooking   at rows\u0007 ',
    });
    expect(result).toEqual({
      ok: true,
      request: {
        database: 'orders',
        level: 'read',
        duration: { minutes: 60 },
        justification: 'INC-1234 looking at rows',
      },
    });
  });

  it('reports each field separately, for inline modal errors', () => {
    expect(
      validateAccessRequest(catalog, { database: 'orders', level: 'read', duration: '', justification: '' }),
    ).toEqual({
      ok: false,
      problems: {
        duration: 'a duration is required: a whole number followed by m, h or d, e.g. 30m, 2h or 1d',
        justification: 'a justification is required: say why you need this access',
      },
    });
  });
});
